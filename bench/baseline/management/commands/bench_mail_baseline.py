"""The floor of sending N emails with Django: a plain loop over one SMTP connection.

Loads the emails an invitation batch wrote to the outbox (subject, text and HTML bodies,
headers, recipient: the very messages Chorus sent) and builds them as
`EmailMultiAlternatives` before the clock starts; then, timed, hands them all to one
connection of the configured backend (`EMAIL_URL`): `connection.send_messages()`, which is
what `send_mass_mail` does. No database write, no template rendering, no worker.

Prints JSON: wall-clock start and end (time.time(), comparable with the SMTP sink's
timestamps), the messages handed over and those the backend reported sent.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.management.base import BaseCommand, CommandParser

from communities.outbox.models import OutboundEmail
from surveys.models import SurveyInvitation


class Command(BaseCommand):
    help = "Send a batch's outbox emails again in a plain loop over one SMTP connection."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        ids = SurveyInvitation.objects.filter(batch_id=options["batch"]).values_list(
            "pk", flat=True
        )
        keys = [f"invitation:{pk}:0" for pk in ids]
        messages = []
        for email in OutboundEmail.objects.filter(idempotency_key__in=keys).order_by("pk"):
            message = EmailMultiAlternatives(
                subject=email.subject,
                body=email.body_text,
                to=[email.to_email],
                from_email=settings.DEFAULT_FROM_EMAIL,
                headers={
                    "Message-ID": f"<baseline-{email.pk}@chorus>",
                    **email.headers,
                },
            )
            if email.body_html:
                message.attach_alternative(email.body_html, "text/html")
            messages.append(message)
        started = time.time()
        with get_connection() as connection:
            sent = connection.send_messages(messages)
        ended = time.time()
        self.stdout.write(
            json.dumps(
                {
                    "messages": len(messages),
                    "sent": sent,
                    "start": started,
                    "end": ended,
                    "backend": settings.EMAIL_BACKEND,
                }
            )
        )
