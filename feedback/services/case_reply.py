"""Replying to the customer from a case: an email written by staff, framed in the
customer's language, sent through the outbox with the case's reply address, and kept on
the case's timeline."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from communities.models import User
from communities.outbox.services import outbox_write
from communities.webhooks.choices import WebhookEvent
from feedback.choices import CaseEventKind, CaseStatus
from feedback.inbound.addresses import reply_headers
from feedback.models import Case, CaseEvent
from feedback.services.case_webhooks import case_webhook_send
from feedback.services.cases import (
    _case_locked,
    _event_record,
    _first_response_mark,
    _person,
)
from feedback.services.contact import followup_recipient

REPLY_MAX_LENGTH = 10_000


def case_reply_language(*, case: Case) -> str:
    """The customer's language: the one they answered in, else their own, else the
    organisation's."""
    response = case.response
    member = response.member if response.member_id else None
    return (
        response.language
        or (member.locale if member is not None else "")
        or case.organisation.default_language
    )


@transaction.atomic
def case_reply_send(*, case: Case, body: str, actor: User, submission: str = "") -> CaseEvent:
    """Email the customer `body` from the case (1 to REPLY_MAX_LENGTH characters, else
    ValidationError on "body"), only where a follow-up may go to them (identified, consent
    to contact given and kept, not suppressed; else ValidationError "no_consent"), in
    their language, through the outbox after commit, with the case's reply address.

    Records an "email_sent" event (the text, for the timeline), counts as the first
    response, and moves a new or open case to waiting on the customer. `submission` names
    the form: sending it twice sends once (ValidationError "duplicate_submission")."""
    body = (body or "").strip()
    if not body or len(body) > REPLY_MAX_LENGTH:
        raise ValidationError(
            {
                "body": ValidationError(
                    _("Write a reply of 1 to %(n)s characters.") % {"n": REPLY_MAX_LENGTH},
                    code="invalid_length",
                )
            }
        )
    locked = _case_locked(case)
    response = locked.response
    recipient = followup_recipient(response=response)
    if recipient is None:
        raise ValidationError(
            _(
                "This customer cannot be emailed: the answer is anonymous, or they did not "
                "agree to be contacted about it."
            ),
            code="no_consent",
        )
    if (
        submission
        and CaseEvent.objects.filter(
            case=locked, kind=CaseEventKind.EMAIL_SENT, data__submission=submission
        ).exists()
    ):
        raise ValidationError(
            {
                "body": ValidationError(
                    _("This reply was already sent (the form was sent twice)."),
                    code="duplicate_submission",
                )
            }
        )
    language = case_reply_language(case=locked)
    organisation = locked.organisation
    context: dict[str, Any] = {
        "organisation_name": organisation.name,
        "name": response.member.name if response.member_id else "",
        "body": body,
        "case_id": locked.pk,
        "author": _person(actor),
    }
    base = "feedback/emails/case_reply"
    with translation.override(language):
        subject = render_to_string(f"{base}_subject.txt", context, using="text")
        text = render_to_string(f"{base}_body.txt", context, using="text")
        html = render_to_string(f"{base}_body.html", context)
    data: dict[str, Any] = {"reply": True, "body": body, "language": language}
    if submission:
        data["submission"] = submission
    event = _event_record(
        case=locked, kind=CaseEventKind.EMAIL_SENT, actor=actor, api_key=None, data=data
    )
    email = outbox_write(
        idempotency_key=f"case-reply:{locked.pk}:{event.pk}",
        unless_suppressed=True,
        organisation=organisation,
        to_email=recipient,
        template="case_reply",
        context={"case_id": locked.pk},
        language=language,
        subject=" ".join(subject.strip().splitlines()),
        body_text=text,
        body_html=html,
        headers=reply_headers(case=locked),
    )
    if email is None:
        # Suppressed between the check and the insert: nothing is sent, and raising undoes
        # the event.
        raise ValidationError(_("This customer's address refuses our email."), code="no_consent")
    fields = ["updated_at", *_first_response_mark(locked, actor=actor, api_key=None)]
    if locked.status in (CaseStatus.NEW, CaseStatus.OPEN):
        before = locked.status
        locked.status = CaseStatus.WAITING
        fields.append("status")
        _event_record(
            case=locked,
            kind=CaseEventKind.STATUS_CHANGED,
            actor=actor,
            api_key=None,
            data={"from": before, "to": CaseStatus.WAITING, "after_reply": event.pk},
        )
    locked.save(update_fields=fields)
    case_webhook_send(case=locked, event=event, webhook_event=WebhookEvent.CASE_UPDATED)
    return event
