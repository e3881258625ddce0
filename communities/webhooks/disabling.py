"""Turning off an endpoint that has failed for too long, and telling the organisation's
owners (once per disabling, in their language, through the outbox)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from communities.choices import Role
from communities.models import Organisation, StaffRole
from communities.webhooks.cache import endpoints_forget
from communities.webhooks.choices import DisabledReason
from communities.webhooks.models import WebhookEndpoint

logger = logging.getLogger(__name__)


@transaction.atomic
def endpoint_disable_failing(*, endpoint_id: int) -> bool:
    """Disable an endpoint that has failed without a break for too long and email the
    organisation's owners, once; False when it was already disabled."""
    now = timezone.now()
    updated = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).update(
        active=False, disabled_at=now, disabled_reason=DisabledReason.FAILING
    )
    if not updated:
        return False
    endpoint = WebhookEndpoint.objects.select_related("organisation").get(pk=endpoint_id)
    endpoints_forget(organisation_id=endpoint.organisation_id)
    owners_notify_disabled(endpoint=endpoint)
    logger.info("webhook endpoint %s disabled after failing since %s", endpoint_id, now)
    return True


def owners_notify_disabled(*, endpoint: WebhookEndpoint) -> int:
    """Email each owner of the endpoint's organisation, in their language, that it was
    disabled (through the outbox, once per owner per disabling); returns how many."""
    # Here, not at the top: the outbox imports communities.services, whose member events
    # import this module (through the delivery task).
    from communities.outbox.services import outbox_write

    organisation: Organisation = endpoint.organisation
    owners = (
        StaffRole.objects.for_organisation(organisation)
        .filter(role=Role.OWNER, user__is_active=True)
        .select_related("user")
    )
    path = reverse("staff:webhook_detail", args=[organisation.slug, endpoint.pk])
    stamp = int(endpoint.disabled_at.timestamp()) if endpoint.disabled_at else 0
    context = {
        "organisation_name": organisation.name,
        "endpoint_url": endpoint.url,
        "hours": int(settings.WEBHOOK_DISABLE_AFTER_HOURS),
        "link": f"{settings.SITE_URL}{path}",
    }
    sent = 0
    for role in owners:
        language = role.user.locale or organisation.default_language
        subject, text, html = _render(context=context, language=language)
        written = outbox_write(
            idempotency_key=f"webhook-disabled:{endpoint.pk}:{stamp}:user:{role.user_id}",
            organisation=organisation,
            to_email=role.user.email,
            template="webhook_disabled",
            context=context,
            language=language,
            subject=subject,
            body_text=text,
            body_html=html,
            headers={},
        )
        sent += written is not None
    return sent


def _render(*, context: dict, language: str) -> tuple[str, str, str]:
    base = "communities/emails/webhook_disabled"
    with translation.override(language):
        subject = render_to_string(f"{base}_subject.txt", context, using="text")
        text = render_to_string(f"{base}_body.txt", context, using="text")
        html = render_to_string(f"{base}_body.html", context)
    return " ".join(subject.strip().splitlines()), text, html
