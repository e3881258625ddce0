"""Surveys triggered by another system's events, reported through the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Organisation
from communities.outbox.contacts import contact_allowed_after, contacts_last
from config.queue import enqueue_on_commit, redrive
from surveys.choices import ChannelKind, EventOutcome, SurveyStatus
from surveys.models import Channel, Survey, SurveyEvent, SurveyInvitation
from surveys.recipients import Person, Purpose, SkipReason, recipients_screen
from surveys.services.invitations import _invitation_email
from surveys.services.responses import survey_closed_reason

# The outcome an event records for each reason the screen skips someone. Not agreeing to
# hear from the community is recorded as suppressed (this person is not to be written
# to), and a member who already answered a one-answer survey as a duplicate (already
# surveyed); the API's skip_reason names the reason itself (skip_reason_of).
SKIP_OUTCOMES = {
    SkipReason.UNSUBSCRIBED: EventOutcome.SUPPRESSED,
    SkipReason.NO_CONSENT: EventOutcome.SUPPRESSED,
    SkipReason.ANSWERED: EventOutcome.DUPLICATE,
    SkipReason.CONTACT_LIMIT: EventOutcome.CONTACT_LIMIT,
}


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
    if survey is None or survey_closed_reason(survey=survey, now=now):
        outcome = EventOutcome.NO_SURVEY
    elif SurveyInvitation.objects.filter(survey=survey, external_ref=event.external_ref).exists():
        outcome = EventOutcome.DUPLICATE
    else:
        # The same screen as a staff send: suppressions, the member's consent, an answer
        # already given, and the organisation's one contact limit across every channel.
        person = recipients_screen(
            survey=survey,
            people=[Person(email=event.email, name=event.name, language=event.language)],
            purpose=Purpose.EVENT,
            now=now,
        )[0]
        outcome = SKIP_OUTCOMES.get(person.skip, EventOutcome.INVITED)
    if outcome == EventOutcome.INVITED:
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
            name=person.name,
            language=person.language,
            external_ref=event.external_ref,
            member_id=person.member_id,
            sent_at=now,
        )
        _invitation_email(invitation=event.invitation)
    event.survey = survey
    event.outcome = outcome
    event.processed_at = now
    event.save(update_fields=["survey", "outcome", "processed_at", "invitation"])
    return outcome


# Why an event sent nothing, as the API says it (skip_reason_text, in the caller's
# language); the codes are the outcomes themselves.
EVENT_SKIP_TEXT = {
    EventOutcome.NO_SURVEY: _("No live survey is set to be sent for this event."),
    EventOutcome.DUPLICATE: _(
        "Already surveyed: this reference was surveyed before, or this person has "
        "already answered the survey."
    ),
    EventOutcome.CONTACT_LIMIT: _(
        "Contacted too recently: the organisation's contact limit holds this person back."
    ),
    EventOutcome.SUPPRESSED: _(
        "This person unsubscribed, left the community or has not agreed to hear from it."
    ),
}


def event_contact_allowed_after(*, event: SurveyEvent) -> datetime | None:
    """For an event held back by the contact limit: when the person may next be surveyed."""
    if event.outcome != EventOutcome.CONTACT_LIMIT:
        return None
    organisation = event.organisation
    last = contacts_last(organisation=organisation, emails=[event.email]).get(event.email)
    if last is None:
        return None
    return contact_allowed_after(organisation=organisation, last=last)


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
