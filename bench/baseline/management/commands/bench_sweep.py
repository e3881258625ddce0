"""Run the re-drive sweeps once, as beat would, for work left behind; print what they queued."""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.management.base import BaseCommand

from communities.outbox.services import outbox_redrive
from feedback.services import analysis_redrive


class Command(BaseCommand):
    help = "Re-drive unsent outbox rows and unanalysed responses now (any age); print JSON."

    def handle(self, *args, **options) -> None:
        queued = {
            "outbox": outbox_redrive(older_than=timedelta(0), limit=5000),
            "analysis": analysis_redrive(older_than=timedelta(0), limit=5000),
        }
        self.stdout.write(json.dumps(queued))
