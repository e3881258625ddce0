"""Personal email links: opening them, invitation batches and reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import MemberStatus
from communities.links import LinkError, link_make, link_read
from communities.models import Community, EmailSuppression, Member
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_enqueue
from communities.services import MEMBER_CURRENT_STATUSES, unsubscribe_token
from config.queue import enqueue_on_commit
from surveys.choices import BatchStatus, ChannelKind, QuestionType, SurveyKind, SurveyStatus
from surveys.models import Channel, InvitationBatch, Question, Survey, SurveyInvitation
from surveys.services.responses import survey_closed_reason, survey_questions


def invitation_link_token(*, invitation: SurveyInvitation) -> str:
    return link_make("survey_invitation", invitation.token)


def invitation_from_link(*, signed: str) -> SurveyInvitation:
    """The invitation a personal link names, if it is genuine, unexpired and unused."""
    token = link_read("survey_invitation", signed)
    invitation = (
        SurveyInvitation.objects.select_related("survey", "survey__organisation", "member")
        .filter(token=token)
        .first()
    )
    if invitation is None:
        raise LinkError(LinkError.FORGED)
    try:
        link_read(
            "survey_invitation",
            signed,
            max_age=timedelta(days=invitation.survey.invitation_valid_days),
        )
    except LinkError as exc:
        raise LinkError(exc.reason, invitation) from None
    if invitation.responded_at is not None:
        raise LinkError(LinkError.USED, invitation)
    return invitation


def invitation_open(*, invitation: SurveyInvitation) -> None:
    """Record the first open; opening never answers or uses up the link."""
    SurveyInvitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
        opened_at=timezone.now()
    )


def _suppressed(*, organisation_id: int, emails: list[str]) -> set[str]:
    lowered = [e.lower() for e in emails]
    suppressed = set(
        EmailSuppression.objects.for_organisation(organisation_id)
        .filter(email__in=lowered)
        .values_list("email", flat=True)
    )
    suppressed |= {
        e.lower()
        for e in Member.objects.for_organisation(organisation_id)
        .filter(email__in=lowered, status__in=(MemberStatus.UNSUBSCRIBED, MemberStatus.ERASED))
        .values_list("email", flat=True)
    }
    return suppressed


def _invitation_email(
    *,
    invitation: SurveyInvitation,
    reminder: int = 0,
    enqueue: bool = True,
    questions: list[Question] | None = None,
) -> OutboundEmail:
    survey = invitation.survey
    organisation = survey.organisation
    language = invitation.language or organisation.default_language
    if survey.languages and language not in survey.languages:
        language = survey.languages[0]
    link = settings.SITE_URL + reverse(
        "surveys:invitation_open", args=[invitation_link_token(invitation=invitation)]
    )
    # A batch passes the questions in: one lookup per chunk, not two per email.
    questions = questions if questions is not None else survey_questions(survey=survey)
    first = next(iter(questions), None)
    unsubscribe = settings.SITE_URL + reverse(
        "surveys:unsubscribe",
        args=[unsubscribe_token(organisation_id=organisation.pk, email=invitation.email)],
    )
    return outbox_enqueue(
        organisation=organisation,
        to_email=invitation.email,
        template="invitation",
        language=language,
        context={
            "organisation_name": organisation.name,
            "survey_title": survey.title.get(language) or survey.title_text,
            "question": first.text_for(language) if first else "",
            "name": invitation.name,
            "link": link,
            # One tap on a score opens the survey with that answer filled in.
            "scores": [(n, f"{link}?score={n}") for n in range(11)]
            if first is not None and first.type == QuestionType.NPS
            else [],
            "reminder": reminder,
            "unsubscribe_url": unsubscribe,
        },
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        idempotency_key=f"invitation:{invitation.pk}:{reminder}",
        enqueue=enqueue,
    )


def _recipients_clean(recipients: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Normalised, de-duplicated (email, name) pairs; a ValidationError names bad lines."""
    clean: dict[str, str] = {}
    bad = []
    for line, (email, name) in enumerate(recipients, start=1):
        email = (email or "").strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            bad.append(str(line))
            continue
        clean.setdefault(email, (name or "").strip()[:200])
    if bad:
        raise ValidationError(
            {
                "recipients": [
                    _("These lines are not email addresses: %(lines)s.")
                    % {"lines": ", ".join(bad[:20]) + ("…" if len(bad) > 20 else "")}
                ]
            }
        )
    return list(clean.items())


@transaction.atomic
def invitation_batch_create(
    *,
    survey: Survey,
    created_by: Any = None,
    community: Community | None = None,
    recipients: list[tuple[str, str]] | None = None,
) -> InvitationBatch:
    """Queue a send of personal survey links; the workers write and send them."""
    reason = survey_closed_reason(survey=survey)
    if reason:
        raise ValidationError(reason)
    if survey.kind == SurveyKind.POLL:
        raise ValidationError(_("A quick poll is answered on the community home, not by email."))
    if community is not None and community.organisation_id != survey.organisation_id:
        raise ValidationError({"community": [_("Choose one of your communities.")]})
    clean = _recipients_clean(recipients or [])
    if community is None and not clean:
        raise ValidationError({"recipients": [_("Name at least one recipient.")]})
    if len(clean) > settings.CHORUS["INVITATION_BATCH_MAX"]:
        raise ValidationError(
            {
                "recipients": [
                    _("Send to at most %(max)s people at once.")
                    % {"max": settings.CHORUS["INVITATION_BATCH_MAX"]}
                ]
            }
        )
    batch = InvitationBatch.objects.create(
        organisation_id=survey.organisation_id,
        survey=survey,
        created_by=created_by,
        community=community,
        recipients=[[email, name] for email, name in clean],
    )
    from surveys.tasks import invitation_batch_send_task

    enqueue_on_commit(invitation_batch_send_task, batch_id=batch.pk)
    return batch


def _batch_audience(batch: InvitationBatch) -> list[tuple[str, str, int | None, str]]:
    """(email, name, member id, language) for everyone the batch names."""
    if batch.community_id is not None:
        return list(
            Member.objects.for_organisation(batch.organisation_id)
            .filter(community_id=batch.community_id)
            .exclude(email="")
            # Only confirmed members: a pending join or an open invitation has not
            # agreed to hear from the community yet (that is what double opt-in is for).
            .filter(status__in=MEMBER_CURRENT_STATUSES)
            .order_by("pk")
            .values_list("email", "name", "pk", "locale")
        )
    return [(email, name, None, "") for email, name in batch.recipients]


def invitation_batch_send(*, batch_id: int) -> int:
    """Write the batch's invitations and their emails chunk by chunk; returns emails queued.

    Safe to run again after a crash: invitations are unique per batch and address,
    and each email's outbox key is its invitation's, so nothing is written or sent twice.
    """
    from communities.outbox.tasks import outbox_send_many_task

    batch = InvitationBatch.objects.select_related("survey", "survey__organisation").get(
        pk=batch_id
    )
    if batch.status == BatchStatus.DONE:
        return 0
    InvitationBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SENDING)
    audience = _batch_audience(batch)
    chunk_size = settings.CHORUS["INVITATION_CHUNK"]
    questions = survey_questions(survey=batch.survey)
    queued = 0
    skipped = {"suppressed": 0}
    channel, _created = Channel.objects.get_or_create(
        survey=batch.survey,
        kind=ChannelKind.EMAIL,
        defaults={"organisation_id": batch.organisation_id},
    )
    for start in range(0, len(audience), chunk_size):
        chunk = audience[start : start + chunk_size]
        with transaction.atomic():
            suppressed = _suppressed(
                organisation_id=batch.organisation_id, emails=[row[0] for row in chunk]
            )
            skipped["suppressed"] += len(suppressed)
            SurveyInvitation.objects.bulk_create(
                [
                    SurveyInvitation(
                        organisation_id=batch.organisation_id,
                        survey=batch.survey,
                        batch=batch,
                        channel=channel,
                        email=email.lower(),
                        name=name,
                        member_id=member_id,
                        language=language,
                    )
                    for email, name, member_id, language in chunk
                    if email.lower() not in suppressed
                ],
                ignore_conflicts=True,
            )
            pending = list(
                SurveyInvitation.objects.filter(
                    batch=batch,
                    sent_at__isnull=True,
                    email__in=[row[0].lower() for row in chunk],
                ).select_related("survey", "survey__organisation")
            )
            ids = [
                _invitation_email(invitation=invitation, enqueue=False, questions=questions).pk
                for invitation in pending
            ]
            SurveyInvitation.objects.filter(pk__in=[i.pk for i in pending]).update(
                sent_at=timezone.now()
            )
            if ids:
                enqueue_on_commit(outbox_send_many_task, email_ids=ids)
            queued += len(ids)
    InvitationBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.DONE,
        total=SurveyInvitation.objects.filter(batch=batch).count(),
        skipped=skipped,
        finished_at=timezone.now(),
    )
    return queued


def reminders_send(*, now: datetime | None = None, limit: int = 2000) -> int:
    """Remind those who have not answered, at most N times, M days apart; returns count."""
    now = now or timezone.now()
    due = (
        SurveyInvitation.objects.filter(
            survey__status=SurveyStatus.LIVE,
            survey__reminder_limit__gt=F("reminder_count"),
            responded_at__isnull=True,
            sent_at__isnull=False,
        )
        .exclude(email="")
        .select_related("survey", "survey__organisation")
        .order_by("sent_at")
    )
    sent = 0
    for invitation in due[:limit]:
        survey = invitation.survey
        last = invitation.reminded_at or invitation.sent_at
        if last > now - timedelta(days=survey.reminder_interval_days):
            continue
        if invitation.sent_at < now - timedelta(days=survey.invitation_valid_days):
            continue
        if survey_closed_reason(survey=survey, now=now):
            continue
        if _suppressed(organisation_id=invitation.organisation_id, emails=[invitation.email]):
            continue
        number = invitation.reminder_count + 1
        with transaction.atomic():
            # The conditional update makes a second sweep at the same time a no-op.
            claimed = SurveyInvitation.objects.filter(
                pk=invitation.pk, reminder_count=invitation.reminder_count
            ).update(reminder_count=number, reminded_at=now)
            if claimed:
                _invitation_email(invitation=invitation, reminder=number)
                sent += 1
    return sent
