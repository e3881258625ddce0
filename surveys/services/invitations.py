"""Personal email links: opening them, invitation batches and reminders."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
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

from communities.links import LinkError, link_make, link_read
from communities.models import Community, Member
from communities.outbox.contacts import SURVEY_KEY
from communities.outbox.models import OutboundEmail
from communities.outbox.services import (
    outbox_enqueue,
    sender_headers,
    unsubscribe_headers,
    unsubscribe_url,
)
from communities.services import MEMBER_CURRENT_STATUSES
from config.queue import enqueue_on_commit
from surveys.choices import BatchStatus, ChannelKind, QuestionType, SurveyKind, SurveyStatus
from surveys.models import Channel, InvitationBatch, Question, Survey, SurveyInvitation
from surveys.recipients import Person, Purpose, SkipReason, recipients_screen
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
    unsubscribe = unsubscribe_url(organisation_id=organisation.pk, email=invitation.email)
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
            # One tap on a score opens the survey with that answer filled in; the link names
            # its question, so a reorder after sending cannot move the score elsewhere.
            "scores": [(n, f"{link}?q={first.pk}&score={n}") for n in range(11)]
            if first is not None and first.type == QuestionType.NPS
            else [],
            "reminder": reminder,
            "unsubscribe_url": unsubscribe,
            # Ties the email to its survey for the contact limit (a follow-up of this
            # survey is not held back by its own invitation).
            SURVEY_KEY: survey.pk,
        },
        headers={
            **unsubscribe_headers(url=unsubscribe),
            **sender_headers(organisation=organisation),
        },
        idempotency_key=f"invitation:{invitation.pk}:{reminder}",
        enqueue=enqueue,
    )


@dataclass
class RecipientList:
    """A pasted list, read: the addresses to send to, and the lines that were not."""

    clean: list[tuple[str, str]] = field(default_factory=list)
    invalid_lines: list[int] = field(default_factory=list)
    duplicates: int = 0


def _recipients_clean(recipients: list[tuple[str, str]]) -> RecipientList:
    """Normalised, de-duplicated (email, name) pairs, and the lines left out (by number)."""
    found = RecipientList()
    seen: set[str] = set()
    for line, (email, name) in enumerate(recipients, start=1):
        email = (email or "").strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            found.invalid_lines.append(line)
            continue
        if email in seen:
            found.duplicates += 1
            continue
        seen.add(email)
        found.clean.append((email, (name or "").strip()[:200]))
    return found


# How many invalid line numbers a send keeps to show staff (the count is always whole).
INVALID_LINES_SHOWN = 20


@transaction.atomic
def invitation_batch_create(
    *,
    survey: Survey,
    created_by: Any = None,
    community: Community | None = None,
    recipients: list[tuple[str, str]] | None = None,
) -> InvitationBatch:
    """Queue a send of personal survey links; the workers write and send them.

    Lines that are not email addresses, and addresses listed twice, are left out and
    counted as skipped (a list with no address at all is refused); who is matched to a
    member, and who else is skipped and why, is decided by the worker (recipients_screen).
    """
    reason = survey_closed_reason(survey=survey)
    if reason:
        raise ValidationError(reason)
    if survey.kind == SurveyKind.POLL:
        raise ValidationError(_("A quick poll is answered on the community home, not by email."))
    if community is not None and community.organisation_id != survey.organisation_id:
        raise ValidationError({"community": [_("Choose one of your communities.")]})
    found = _recipients_clean(recipients or [])
    if community is None and not found.clean:
        if found.invalid_lines:
            bad = [str(n) for n in found.invalid_lines[:INVALID_LINES_SHOWN]]
            more = "…" if len(found.invalid_lines) > INVALID_LINES_SHOWN else ""
            raise ValidationError(
                {
                    "recipients": [
                        _("These lines are not email addresses: %(lines)s.")
                        % {"lines": ", ".join(bad) + more}
                    ]
                }
            )
        raise ValidationError({"recipients": [_("Name at least one recipient.")]})
    if len(found.clean) > settings.CHORUS["INVITATION_BATCH_MAX"]:
        raise ValidationError(
            {
                "recipients": [
                    _("Send to at most %(max)s people at once.")
                    % {"max": settings.CHORUS["INVITATION_BATCH_MAX"]}
                ]
            }
        )
    skipped: dict[str, Any] = {}
    if found.invalid_lines:
        skipped[SkipReason.INVALID] = len(found.invalid_lines)
        skipped[INVALID_LINES_KEY] = found.invalid_lines[:INVALID_LINES_SHOWN]
    if found.duplicates:
        skipped[SkipReason.DUPLICATE] = found.duplicates
    batch = InvitationBatch.objects.create(
        organisation_id=survey.organisation_id,
        survey=survey,
        created_by=created_by,
        community=community,
        recipients=[[email, name] for email, name in found.clean],
        skipped={str(k): v for k, v in skipped.items()},
    )
    from surveys.tasks import invitation_batch_send_task

    enqueue_on_commit(invitation_batch_send_task, batch_id=batch.pk)
    return batch


# InvitationBatch.skipped holds {reason code: count}; the pasted list's own reasons
# (invalid, duplicate, and which lines were invalid) are known when it is stored, the
# others are counted by the worker.
INVALID_LINES_KEY = "invalid_lines"
LIST_SKIP_KEYS = (SkipReason.INVALID, SkipReason.DUPLICATE, INVALID_LINES_KEY)


def _batch_audience(batch: InvitationBatch) -> list[Person]:
    """Everyone the batch names: a community's confirmed members, or the pasted list."""
    if batch.community_id is not None:
        return [
            Person(email=email.lower(), name=name, member_id=pk, language=locale)
            for email, name, pk, locale in Member.objects.for_organisation(batch.organisation_id)
            .filter(community_id=batch.community_id)
            .exclude(email="")
            # Only confirmed members: a pending join or an open invitation has not agreed
            # to hear from the community yet (that is what double opt-in is for).
            .filter(status__in=MEMBER_CURRENT_STATUSES)
            .order_by("pk")
            .values_list("email", "name", "pk", "locale")
        ]
    return [Person(email=email.lower(), name=name) for email, name in batch.recipients]


def invitation_batch_send(*, batch_id: int) -> int:
    """Write the batch's invitations and their emails chunk by chunk; returns emails queued.

    Each chunk is screened first (recipients_screen): addresses are matched to members,
    whose language the email uses, and those who unsubscribed, never agreed, already
    answered or were contacted within the contact limit are skipped and counted by reason.
    Safe to run again after a crash: invitations are unique per batch and address,
    and each email's outbox key is its invitation's, so nothing is written or sent twice
    (and an address the first run already wrote is not screened again).
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
    listed = {k: v for k, v in batch.skipped.items() if k in LIST_SKIP_KEYS}
    skipped: Counter[str] = Counter()
    channel, _created = Channel.objects.get_or_create(
        survey=batch.survey,
        kind=ChannelKind.EMAIL,
        defaults={"organisation_id": batch.organisation_id},
    )
    for start in range(0, len(audience), chunk_size):
        chunk = audience[start : start + chunk_size]
        with transaction.atomic():
            written = set(
                SurveyInvitation.objects.filter(
                    batch=batch, email__in=[p.email for p in chunk]
                ).values_list("email", flat=True)
            )
            screened = recipients_screen(
                survey=batch.survey,
                people=[p for p in chunk if p.email not in written],
                purpose=Purpose.SEND,
            )
            skipped.update(p.skip for p in screened if p.skip)
            SurveyInvitation.objects.bulk_create(
                [
                    SurveyInvitation(
                        organisation_id=batch.organisation_id,
                        survey=batch.survey,
                        batch=batch,
                        channel=channel,
                        email=person.email,
                        name=person.name,
                        member_id=person.member_id,
                        language=person.language,
                    )
                    for person in screened
                    if not person.skip
                ],
                ignore_conflicts=True,
            )
            pending = list(
                SurveyInvitation.objects.filter(
                    batch=batch,
                    sent_at__isnull=True,
                    email__in=[p.email for p in chunk],
                ).select_related("survey", "survey__organisation")
            )
            ids = [
                _invitation_email(invitation=invitation, enqueue=False, questions=questions).pk
                for invitation in pending
            ]
            SurveyInvitation.objects.filter(pk__in=[i.pk for i in pending]).update(
                sent_at=timezone.now()
            )
            # The counts so far, so the send's page shows them while it runs.
            InvitationBatch.objects.filter(pk=batch.pk).update(skipped={**listed, **skipped})
            if ids:
                enqueue_on_commit(outbox_send_many_task, email_ids=ids)
            queued += len(ids)
    InvitationBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.DONE,
        total=SurveyInvitation.objects.filter(batch=batch).count(),
        skipped={**listed, **skipped},
        finished_at=timezone.now(),
    )
    return queued


def reminders_send(*, now: datetime | None = None, limit: int = 2000) -> int:
    """Remind those who have not answered, at most N times, M days apart; returns count.

    Each reminder is screened as its invitation was (recipients_screen): not to anyone
    who answered since, by whatever path (signed in, another link), who unsubscribed or
    withdrew their agreement. A reminder is exempt from the contact limit: it belongs to
    an invitation the limit already counted. An invitation written before its address was
    matched to a member picks up the member, and their language, here.
    """
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
    by_survey: dict[int, list[SurveyInvitation]] = defaultdict(list)
    for invitation in due[:limit]:
        survey = invitation.survey
        last = invitation.reminded_at or invitation.sent_at
        if last > now - timedelta(days=survey.reminder_interval_days):
            continue
        if invitation.sent_at < now - timedelta(days=survey.invitation_valid_days):
            continue
        if survey_closed_reason(survey=survey, now=now):
            continue
        by_survey[survey.pk].append(invitation)
    sent = 0
    for invitations in by_survey.values():
        screened = recipients_screen(
            survey=invitations[0].survey,
            people=[
                Person(
                    email=i.email.lower(),
                    name=i.name,
                    member_id=i.member_id,
                    language=i.language,
                )
                for i in invitations
            ],
            purpose=Purpose.REMINDER,
            now=now,
        )
        for invitation, person in zip(invitations, screened, strict=True):
            if not person.skip:
                sent += _reminder_send(invitation=invitation, person=person, now=now)
    return sent


@transaction.atomic
def _reminder_send(*, invitation: SurveyInvitation, person: Person, now: datetime) -> int:
    number = invitation.reminder_count + 1
    # The conditional update makes a second sweep at the same time a no-op.
    claimed = SurveyInvitation.objects.filter(
        pk=invitation.pk, reminder_count=invitation.reminder_count
    ).update(
        reminder_count=number,
        reminded_at=now,
        member_id=invitation.member_id or person.member_id,
        language=invitation.language or person.language,
    )
    if not claimed:
        return 0
    invitation.member_id = invitation.member_id or person.member_id
    invitation.language = invitation.language or person.language
    _invitation_email(invitation=invitation, reminder=number)
    return 1
