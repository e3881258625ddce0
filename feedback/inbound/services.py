"""Writes for inbound mail: a customer's reply onto its case, a bounce or complaint onto
the outbox row it answers and the suppression list.

Each is one transaction, idempotent: a message read twice (a poll that died between the
commit and flagging the message seen) finds its Message-ID already recorded and writes
nothing again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from communities.models import EmailSuppression, StaffRole, User
from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_write
from communities.permissions import WORK_CASES_ROLES
from feedback.choices import CASE_TRANSITIONS, CaseEventKind, CaseStatus
from feedback.inbound.addresses import ReplyTokenInvalid, reply_token_read
from feedback.inbound.mail import Inbound
from feedback.models import Case, CaseEvent

logger = logging.getLogger(__name__)

SOURCE_EMAIL = "email"
SOURCE_LINK = "link"

# EmailSuppression.reason / .source codes this module writes (shown translated).
HARD_BOUNCE = "hard_bounce"
COMPLAINT = "complaint"


@dataclass(frozen=True)
class BounceOutcome:
    """What a bounce or complaint changed: rows marked, addresses suppressed, recipients
    whose outbox row could not be found (or named someone else)."""

    marked: int = 0
    suppressed: int = 0
    soft: int = 0
    unmatched: int = 0


def _case_for_token(token: str) -> Case:
    """The case a genuine token names, in the organisation it names; else
    ReplyTokenInvalid ("cross_organisation" when the case is another organisation's)."""
    case_id, organisation_id = reply_token_read(token)
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("organisation", "assignee", "team__lead")
        .filter(pk=case_id, organisation_id=organisation_id)
        .first()
    )
    if case is None:
        exists = Case.objects.filter(pk=case_id).exists()
        raise ReplyTokenInvalid("cross_organisation" if exists else "unknown_case")
    return case


def _alert_recipients(case: Case) -> list[User]:
    """Who hears of the reply: the case's assignee; with nobody assigned, its team's lead;
    else everyone who works the organisation's cases."""
    if case.assignee_id and case.assignee.is_active:
        return [case.assignee]
    team = case.team if case.team_id else None
    lead = getattr(team, "lead", None)
    if lead is not None and lead.is_active:
        return [lead]
    roles = (
        StaffRole.objects.for_organisation(case.organisation_id)
        .filter(role__in=WORK_CASES_ROLES, user__is_active=True)
        .select_related("user")
    )
    return [role.user for role in roles]


def _owner_alert(*, case: Case, event: CaseEvent) -> int:
    """Email the case's owner that the customer replied, in the owner's language, once per
    reply; the reply's words stay on the case page (an email may be forwarded)."""
    path = reverse("staff:case_detail", args=[case.organisation.slug, case.pk])
    context = {
        "organisation_name": case.organisation.name,
        "case_id": case.pk,
        "case_url": f"{settings.SITE_URL}{path}",
    }
    recipients = _alert_recipients(case)
    for user in recipients:
        language = user.locale or case.organisation.default_language
        with translation.override(language):
            subject = render_to_string(
                "feedback/inbound/emails/reply_alert_subject.txt", context, using="text"
            )
            text = render_to_string(
                "feedback/inbound/emails/reply_alert_body.txt", context, using="text"
            )
            html = render_to_string("feedback/inbound/emails/reply_alert_body.html", context)
        outbox_write(
            idempotency_key=f"inbound:reply:{event.pk}:user:{user.pk}",
            organisation=case.organisation,
            to_email=user.email,
            template="inbound_reply_alert",
            context=context,
            language=language,
            subject=" ".join(subject.split()),
            body_text=text,
            body_html=html,
            headers={},
        )
    return len(recipients)


@transaction.atomic
def reply_receive(
    *,
    token: str,
    text: str,
    source: str,
    message_id: str = "",
    attachments: list[str] | None = None,
    truncated: bool = False,
) -> CaseEvent | None:
    """Attach a customer's reply to the case its token names, as a "reply_received"
    timeline event; a case waiting on the customer moves back to open, and its owner is
    alerted by email (after commit, through the outbox).

    A forged, expired or malformed token, or one naming a case outside the organisation
    it was signed for, raises ReplyTokenInvalid and writes nothing. Returns None when this
    Message-ID was attached before, or the reply has no words and no attachment.
    """
    case = _case_for_token(token)
    attachments = attachments or []
    if message_id and (
        CaseEvent.objects.for_organisation(case.organisation_id)
        .filter(case=case, kind=CaseEventKind.REPLY_RECEIVED, data__message_id=message_id)
        .exists()
    ):
        return None
    if not text and not attachments:
        return None
    now = timezone.now()
    data = {"body": text, "source": source, "message_id": message_id, "truncated": truncated}
    if attachments:
        # Refused, never stored: staff see that something was attached and ask for it.
        data["attachments_refused"] = attachments
    event = CaseEvent.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        kind=CaseEventKind.REPLY_RECEIVED,
        data=data,
        created_at=now,
    )
    case.reply_text = text
    fields = ["reply_text", "updated_at"]
    if case.status == CaseStatus.WAITING and CaseStatus.OPEN in CASE_TRANSITIONS[case.status]:
        CaseEvent.objects.create(
            organisation_id=case.organisation_id,
            case=case,
            kind=CaseEventKind.STATUS_CHANGED,
            data={"from": case.status, "to": CaseStatus.OPEN, "cause": "reply_received"},
            created_at=now,
        )
        case.status = CaseStatus.OPEN
        fields.append("status")
    case.save(update_fields=fields)
    _owner_alert(case=case, event=event)
    return event


def _outbox_row(inbound: Inbound, recipient: str) -> OutboundEmail | None:
    """The outbox row the report is about, only if it was sent to `recipient`: a forged
    report naming a row id cannot suppress somebody else's address."""
    if inbound.original_outbox_id is not None:
        row = OutboundEmail.objects.filter(pk=inbound.original_outbox_id).first()
    elif inbound.original_message_id:
        # The outbox stores each row's Message-ID; a reporter may have dropped our
        # X-Chorus-Outbox header but keeps the Message-ID (RFC 3464 §2.2).
        row = OutboundEmail.objects.filter(message_id=inbound.original_message_id).first()
    else:
        return None
    if row is None or row.to_email.lower() != recipient.lower() or row.organisation_id is None:
        return None
    return row


def _suppress(*, row: OutboundEmail, reason: str, source: str, detail: str) -> bool:
    suppression, created = EmailSuppression.objects.get_or_create(
        organisation_id=row.organisation_id,
        email=row.to_email.lower(),
        defaults={"reason": reason, "source": source, "detail": detail, "outbound_email": row},
    )
    return created


@transaction.atomic
def bounce_record(*, inbound: Inbound) -> BounceOutcome:
    """Apply a delivery-status notification or a feedback-loop complaint.

    A hard bounce (Action: failed, Status 5.x.x) marks the row bounced and suppresses the
    address for the row's organisation; a complaint marks it complained and suppresses
    too; a soft bounce (4.x.x, or a delay) is noted on the row and suppresses nothing.
    Applying the same report twice changes nothing more.
    """
    marked = suppressed = soft = unmatched = 0
    for delivery in inbound.deliveries:
        row = _outbox_row(inbound, delivery.recipient)
        if row is None:
            unmatched += 1
            logger.warning(
                "inbound: %s for an unknown outbox row (id %s)",
                inbound.kind,
                inbound.original_outbox_id,
            )
            continue
        if delivery.action == "complained":
            status, reason, source = EmailStatus.COMPLAINED, COMPLAINT, "arf"
            detail = inbound.feedback_type or "abuse"
        elif delivery.is_hard:
            status, reason, source = EmailStatus.BOUNCED, HARD_BOUNCE, "dsn"
            detail = delivery.status
        else:
            soft += 1
            OutboundEmail.objects.filter(pk=row.pk).update(
                last_error=f"soft bounce {delivery.status} {delivery.diagnostic}"[:2000]
            )
            continue
        marked += (
            OutboundEmail.objects.filter(pk=row.pk)
            .exclude(status=status)
            .update(status=status, last_error=f"{status} {detail} {delivery.diagnostic}"[:2000])
        )
        suppressed += _suppress(row=row, reason=reason, source=source, detail=detail)
    return BounceOutcome(marked=marked, suppressed=suppressed, soft=soft, unmatched=unmatched)
