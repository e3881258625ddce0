"""Per-question roll-ups (choice shares and score distributions per survey × day × channel × store × language)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0002_notifications"),
    ]

    operations = []
