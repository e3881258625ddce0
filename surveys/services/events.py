"""Surveys triggered by another system's events, reported through the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from communities.models import Member, Organisation
from config.queue import enqueue_on_commit, redrive
from surveys.choices import ChannelKind, EventOutcome, SurveyStatus
from surveys.models import Channel, Survey, SurveyEvent, SurveyInvitation
from surveys.services.invitations import _invitation_email, _suppressed
from surveys.services.responses import survey_closed_reason


@transaction.atomic
def event_receive(
    *,
    organisation: Organisation,
    kind: str,
    external_ref: str,
    email: str,
    name: str = "",
    language: str = "",
    survey: Survey | None = None,
    delay: timedelta = timedelta(0),
) -> tuple[SurveyEvent, bool]:
    """Store a reported event once per reference, and process it after commit (and delay)."""
    now = timezone.now()
    event, created = SurveyEvent.objects.get_or_create(
        organisation=organisation,
        kind=kind,
        external_ref=external_ref,
        defaults={
            "email": email.strip().lower(),
            "name": name,
            "language": language,
            "survey": survey,
            "received_at": now,
            "send_after": now + delay,
        },
    )
    if created:
        from surveys.tasks import event_process_task

        # The countdown is a convenience; the sweep sends anything due that it missed.
        enqueue_on_commit(
            event_process_task,
            event_id=event.pk,
            countdown=max(0, int(delay.total_seconds())) or None,
        )
    return event, created


def _event_survey(event: SurveyEvent) -> Survey | None:
    if event.survey_id is not None:
        return event.survey
    return (
        Survey.objects.for_organisation(event.organisation_id)
        .filter(trigger=event.kind, status=SurveyStatus.LIVE)
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def event_process(*, event_id: int, now: datetime | None = None) -> str | None:
    """Send the event's invitation, or record why not; None when not due or already done."""
    now = now or timezone.now()
    event = (
        SurveyEvent.objects.select_for_update(of=("self",))
        .select_related("organisation", "survey")
        .filter(pk=event_id, processed_at__isnull=True, send_after__lte=now)
        .first()
    )
    if event is None:
        return None
    survey = _event_survey(event)
    limit = timedelta(days=event.organisation.contact_limit_days)
    if survey is None or survey_closed_reason(survey=survey, now=now):
        outcome = EventOutcome.NO_SURVEY
    elif _suppressed(organisation_id=event.organisation_id, emails=[event.email]):
        outcome = EventOutcome.SUPPRESSED
    elif SurveyInvitation.objects.filter(survey=survey, external_ref=event.external_ref).exists():
        outcome = EventOutcome.DUPLICATE
    elif (
        SurveyInvitation.objects.for_organisation(event.organisation_id)
        .filter(email=event.email, sent_at__gte=now - limit)
        .exists()
    ):
        outcome = EventOutcome.CONTACT_LIMIT
    else:
        outcome = EventOutcome.INVITED
        channel, _created = Channel.objects.get_or_create(
            survey=survey,
            kind=ChannelKind.API,
            defaults={"organisation_id": survey.organisation_id},
        )
        event.invitation = SurveyInvitation.objects.create(
            organisation_id=event.organisation_id,
            survey=survey,
            channel=channel,
            email=event.email,
            name=event.name,
            language=event.language,
            external_ref=event.external_ref,
            member=Member.objects.for_organisation(event.organisation_id)
            .filter(email__iexact=event.email)
            .first(),
            sent_at=now,
        )
        _invitation_email(invitation=event.invitation)
    event.survey = survey
    event.outcome = outcome
    event.processed_at = now
    event.save(update_fields=["survey", "outcome", "processed_at", "invitation"])
    return outcome


def events_sweep(*, grace: timedelta = timedelta(seconds=60), limit: int = 500) -> int:
    """Enqueue due events nobody processed (broker down, worker restarted mid-countdown)."""
    from surveys.tasks import event_process_task

    return redrive(
        task=event_process_task,
        rows=SurveyEvent.objects.filter(
            processed_at__isnull=True, send_after__lte=timezone.now() - grace
        ),
        order_by="send_after",
        kwarg="event_id",
        limit=limit,
    )
