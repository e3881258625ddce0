"""Case workflow follow-ups (filled by the change that needs it; may stay empty)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0006_rules_v2"),
    ]

    operations = []
