"""Outbox send path (filled by the change that needs it; may stay empty)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0014_outbox_batches"),
    ]

    operations = []
