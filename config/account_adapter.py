import uuid

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.utils import translation

from feedback.services import outbox_write


class AccountAdapter(DefaultAccountAdapter):
    """Sends allauth's emails (verification, password reset) through the outbox."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (body for body, mime in getattr(message, "alternatives", []) if mime == "text/html"),
            "",
        )
        with transaction.atomic():
            outbox_write(
                organisation=None,
                to_email=email,
                template=template_prefix,
                context={},
                language=translation.get_language() or "en",
                subject=message.subject,
                body_text=message.body,
                body_html=html,
                idempotency_key=f"account:{template_prefix}:{uuid.uuid4()}",
            )
