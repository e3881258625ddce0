"""Hot path (filled by the change that needs it; may stay empty)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0008_recovery_surveys"),
    ]

    operations = []
