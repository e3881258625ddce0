import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.db import transaction
from django.utils import translation

from communities.outbox.services import outbox_write


class AccountAdapter(DefaultAccountAdapter):
    """Sends allauth's emails (verification, password reset) through the outbox."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        site = get_current_site(request)
        # Without django.contrib.sites the site is the request's host; name it as people know it.
        site.name = "Chorus"
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": site, **context},
        )
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
