from django.core.management.base import BaseCommand, CommandError

from feedback.inbound.mailbox import MailboxUrlInvalid, inbound_poll


class Command(BaseCommand):
    help = (
        "Read the inbound mailbox (INBOUND_EMAIL_URL) once: customers' replies go to "
        "their cases, bounces and complaints to the outbox and the suppression list."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", help="An IMAP URL instead of INBOUND_EMAIL_URL.")
        parser.add_argument("--limit", type=int, help="Read at most this many messages.")

    def handle(self, *args, url: str | None = None, limit: int | None = None, **options):
        try:
            counts = inbound_poll(url=url, limit=limit)
        except MailboxUrlInvalid as exc:
            raise CommandError(str(exc)) from exc
        if not counts:
            self.stdout.write("nothing to read")
        for outcome, count in sorted(counts.items()):
            self.stdout.write(f"{outcome}: {count}")
