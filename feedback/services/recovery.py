"""The recovery check: on resolving a case, staff may ask the customer "Did we fix it?"
(1 to 5) by email, through a signed link answerable once; an answer at or below
settings.CASES_RECOVERY_REOPEN_AT_MOST reopens the case with a timeline event."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communities.models import ApiToken, User
from communities.outbox.services import outbox_write
from feedback.choices import CASE_DONE_STATUSES, CaseEventKind, CaseStatus
from feedback.models import Case, CaseEvent, RecoveryCheck, RootCause
from feedback.services.case_reply import case_reply_language
from feedback.services.cases import _event_record, case_status_change
from feedback.services.contact import followup_recipient

SALT = "chorus.feedback.recovery"


class RecoveryLinkInvalid(ValueError):
    """A recovery link that was altered, has expired, or names no check."""


def recovery_token(*, check: RecoveryCheck) -> str:
    return signing.dumps([check.pk, check.organisation_id], salt=SALT, compress=False)


def recovery_link(*, check: RecoveryCheck) -> str:
    path = reverse("feedback_public:recovery_answer", args=[recovery_token(check=check)])
    return f"{settings.SITE_URL}{path}"


def recovery_check_read(*, token: str) -> RecoveryCheck:
    """The check a link names (its signature and age checked), else RecoveryLinkInvalid."""
    max_age = settings.CASES_RECOVERY_LINK_MAX_AGE_DAYS * 86_400
    try:
        pk, organisation_id = signing.loads(token[:500], salt=SALT, max_age=max_age)
        return RecoveryCheck.objects.select_related("case", "organisation").get(
            pk=int(pk), organisation_id=int(organisation_id)
        )
    except (signing.BadSignature, ValueError, TypeError, RecoveryCheck.DoesNotExist):
        raise RecoveryLinkInvalid(token[:40]) from None


def recovery_send(*, case: Case, actor: User | None) -> RecoveryCheck:
    """Email the customer of a resolved case the one question, in their language, through
    the outbox after commit; only where they may be written to (else ValidationError
    "no_consent"). Records a "recovery_sent" event."""
    response = case.response
    recipient = followup_recipient(response=response)
    if recipient is None:
        raise ValidationError(
            {
                "recovery": ValidationError(
                    _(
                        "“Did we fix it?” cannot be sent: the answer is anonymous, or the "
                        "customer did not agree to be contacted about it."
                    ),
                    code="no_consent",
                )
            }
        )
    language = case_reply_language(case=case)
    check = RecoveryCheck.objects.create(
        organisation_id=case.organisation_id, case=case, language=language
    )
    organisation = case.organisation
    context: dict[str, Any] = {
        "organisation_name": organisation.name,
        "name": response.member.name if response.member_id else "",
        "link": recovery_link(check=check),
    }
    base = "feedback/emails/case_recovery"
    with translation.override(language):
        subject = render_to_string(f"{base}_subject.txt", context, using="text")
        text = render_to_string(f"{base}_body.txt", context, using="text")
        html = render_to_string(f"{base}_body.html", context)
    outbox_write(
        idempotency_key=f"case-recovery:{check.pk}",
        unless_suppressed=True,
        organisation=organisation,
        to_email=recipient,
        template="case_recovery",
        context={"case_id": case.pk},
        language=language,
        subject=" ".join(subject.strip().splitlines()),
        body_text=text,
        body_html=html,
        headers={},
    )
    _event_record(
        case=case,
        kind=CaseEventKind.RECOVERY_SENT,
        actor=actor,
        api_key=None,
        data={"check": check.pk, "language": language},
    )
    return check


@transaction.atomic
def case_resolve(
    *,
    case: Case,
    resolution: str,
    root_cause: RootCause | int | None,
    recovery: bool = False,
    actor: User | None = None,
    api_key: ApiToken | None = None,
) -> CaseEvent:
    """Resolve the case (case_status_change) and, with `recovery`, ask the customer "Did
    we fix it?" (recovery_send) in the same transaction: if the question cannot go, the
    case is not resolved either, and staff are told why."""
    event = case_status_change(
        case=case,
        status=CaseStatus.RESOLVED,
        resolution=resolution,
        root_cause=root_cause,
        actor=actor,
        api_key=api_key,
    )
    if recovery:
        recovery_send(case=Case.objects.select_related("organisation").get(pk=case.pk), actor=actor)
    return event


@transaction.atomic
def recovery_answer(*, check: RecoveryCheck, score: int) -> bool:
    """Record the customer's answer (1 to 5, else ValidationError) once: a second answer
    is ValidationError "already_answered". A low answer reopens the case if it is still
    resolved or closed. Returns whether the case was reopened."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": _("Pick an answer from 1 to 5.")}, code="invalid")
    locked = RecoveryCheck.objects.select_for_update().get(pk=check.pk)
    if locked.answered_at is not None:
        raise ValidationError(
            _("You have answered this already. Thank you!"), code="already_answered"
        )
    locked.score, locked.answered_at = score, timezone.now()
    locked.save(update_fields=["score", "answered_at"])
    case = Case.objects.select_related("organisation").get(pk=locked.case_id)
    CaseEvent.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        kind=CaseEventKind.RECOVERY_ANSWERED,
        data={"check": locked.pk, "score": score},
    )
    if score > settings.CASES_RECOVERY_REOPEN_AT_MOST or case.status not in CASE_DONE_STATUSES:
        return False
    case_status_change(
        case=case, status=CaseStatus.OPEN, event_data={"recovery": locked.pk, "score": score}
    )
    return True
