"""Print the demo's addresses once everything has started, then wait to be stopped.

`make demo` runs this beside the web server, worker and beat (Procfile.demo): the
addresses seed_demo wrote come last, below the start-up logs and the seeded emails'
task lines, instead of scrolling away above them.
"""

import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand

from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Command(BaseCommand):
    help = "Wait for the demo to answer, print its addresses, then wait (a Procfile process)."

    def add_arguments(self, parser):
        parser.add_argument("summary", type=Path, help="The file seed_demo --summary wrote.")
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args, summary: Path, timeout: float, **options):
        deadline = time.monotonic() + timeout
        site = settings.SITE_URL.rstrip("/")
        while not self._answers(site) and time.monotonic() < deadline:
            time.sleep(0.5)
        # The worker first works through what the seed queued (analyses, then emails): its
        # log lines would bury the addresses, so wait until it has been idle for a moment.
        idle = 0
        while idle < 3 and time.monotonic() < deadline:
            idle = 0 if self._busy() else idle + 1
            time.sleep(1)
        text = summary.read_text(encoding="utf-8") if summary.exists() else ""
        rule = "=" * 72
        self.stdout.write(rule)
        self.stdout.write(self.style.SUCCESS(f"Chorus is running on {site}/ (Ctrl-C to stop)"))
        self.stdout.write(text.rstrip("\n"))
        self.stdout.write(f"  These addresses again: cat {summary}")
        self.stdout.write(rule)
        self.stdout.flush()
        # Ending would make honcho stop the others: wait for its SIGTERM instead.
        signal.pause()

    @staticmethod
    def _answers(site: str) -> bool:
        # Straight to our own server, whatever proxy the environment names; a redirect is
        # an answer already, so it is not followed.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)
        try:
            with opener.open(f"{site}/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means the server is up
        except OSError:
            return False

    @staticmethod
    def _busy() -> bool:
        """Tasks wait in the broker, or emails wait in the outbox."""
        app = current_app
        try:
            with app.connection_for_write() as connection:
                waiting = connection.default_channel.queue_declare(
                    queue=app.conf.task_default_queue, passive=True
                ).message_count
        except Exception:  # noqa: BLE001 - no broker to ask: judge by the outbox alone
            waiting = 0
        return bool(waiting) or (
            OutboundEmail.objects.filter(
                status__in=(EmailStatus.PENDING, EmailStatus.SENDING)
            ).exists()
        )
