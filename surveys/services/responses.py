"""Answering a survey: checking answers and storing a response exactly once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from communities.choices import ConsentChannel, ConsentPurpose
from communities.models import Location, Member
from communities.services import member_activity_touch, member_lock
from communities.webhooks.choices import WebhookEvent
from communities.webhooks.services import webhook_emit, webhook_subscribed
from rewards.choices import LedgerReason
from rewards.services import poll_points_for
from rewards.services.ledger import points_award_row
from surveys.choices import (
    Anonymity,
    SurveyKind,
    SurveyStatus,
)
from surveys.lookups import KioskCurrent
from surveys.models import (
    Channel,
    Participation,
    PooledAnswer,
    Question,
    Response,
    Survey,
    SurveyInvitation,
    translated,
)
from surveys.reactions import (
    Rider,
    StoredResponse,
    response_reactions_prepare,
    response_reactions_riders,
    response_reactions_run,
)
from surveys.services.answers import answers_validate
from surveys.services.pool import answer_pool
from surveys.services.statements import MemberAnswering, invitation_claim
from surveys.services.writing import ResponseDraft, answers_score, draft_write, response_draft


class SurveyNotOpen(ValidationError):
    pass


class AlreadyAnswered(ValidationError):
    pass


# Frozen: migration 0005 hashed the keys stored before with it.
ANSWER_KEY_SALT = "chorus.surveys.respondent-answer-key"


def answer_key_stored(key: str) -> str:
    """What a respondent page's answer key is stored (and looked up) as: a keyed hash.

    The key sits in the page and, for a visitor, in a year-long cookie; the database keeps
    only HMAC(SECRET_KEY, key), so whoever holds the browser and the database but not the
    server's secret cannot find the answer with it. The same key always maps to the same
    value, so a resend is still found ("exactly once per key").
    """
    return salted_hmac(ANSWER_KEY_SALT, key, algorithm="sha256").hexdigest()


def survey_closed_reason(*, survey: Survey, now=None) -> str | None:
    """Why a survey takes no answers right now, in words for the respondent, or None."""
    now = now or timezone.now()
    if survey.status == SurveyStatus.DRAFT:
        return _("This survey is not published yet.")
    if survey.status == SurveyStatus.CLOSED or (survey.closes_at and now >= survey.closes_at):
        return _("This survey has closed. Thank you for your interest.")
    if survey.opens_at and now < survey.opens_at:
        return _("This survey is not open yet.")
    return None


def survey_questions(*, survey: Survey) -> list[Question]:
    return list(survey.questions.filter(hidden=False).prefetch_related("choices"))


@dataclass
class SubmitResult:
    # None for an answer that went to the anonymous pool (see surveys.services.pool).
    response: Response | None
    created: bool
    points_awarded: int = 0
    notes: list[str] = field(default_factory=list)
    pooled: bool = False
    # Points an anonymous answer earned, awarded later with its batch.
    points_pending: int = 0


def _respondent_is_anonymous(
    *,
    survey: Survey,
    member: Member | None,
    invitation: SurveyInvitation | None,
    wants_anonymous: bool,
) -> bool:
    if survey.anonymity == Anonymity.ANONYMOUS:
        return True
    if survey.anonymity == Anonymity.RESPONDENT_CHOICE and wants_anonymous:
        return True
    return member is None and invitation is None


def response_submit(
    *,
    survey: Survey,
    raw_answers: Mapping[str, Any],
    idempotency_key: str,
    language: str = "en",
    member: Member | None = None,
    invitation: SurveyInvitation | None = None,
    channel: Channel | None = None,
    location: Location | None = None,
    consent_to_contact: bool = False,
    wants_anonymous: bool = False,
    questions: Sequence[Question] | None = None,
    admit: Callable[[], None] | None = None,
    refund: Callable[[], None] | None = None,
    current: KioskCurrent | None = None,
) -> SubmitResult:
    """Store a response and its answers in one transaction, exactly once per key.

    Also records participation, awards the survey's points once, and runs the registered
    response reactions (feedback's: open a case and queue a follow-up email when a rule
    matches) in the same transaction, so the case and its email row commit with the
    response. A repeated key returns the first response.

    `admit`, when given, refuses an answer that is new (not a resend of a stored one) by
    raising, leaving nothing written (the kiosk's rate limit). With `refund` it may instead
    be asked first and `refund` called when the answer then turns out not to be stored.

    `current`: the survey and channel came from the process's copy of a kiosk
    (surveys.lookups.kiosk_kept), and are written with only while the database still
    holds them so. Any outcome but a stored answer (or its refusal by `admit`) then raises
    StaleCopy, and the caller asks again with a fresh copy.

    An anonymous answer from a respondent the product knows (a member, a personal link)
    is not stored as a Response here: it goes into the mixing pool, and its points wait on
    the participation; both are released later in shuffled batches (services.pool).
    """
    if not idempotency_key or len(idempotency_key) > 64:
        raise ValidationError({"idempotency_key": [_("This form has expired; please reload.")]})
    reason = survey_closed_reason(survey=survey)
    if reason:
        if current is not None:
            raise StaleCopy
        # A resend of an answer stored before the survey closed still finds it.
        first = _first_with_key(survey=survey, idempotency_key=idempotency_key)
        if first is not None:
            return first
        raise SurveyNotOpen(reason, code="survey_not_open")
    if member is not None and member.organisation_id != survey.organisation_id:
        raise ValidationError(_("This survey belongs to another organisation."))
    questions = questions if questions is not None else survey_questions(survey=survey)
    clean = answers_validate(questions=questions, raw=raw_answers)
    anonymous = _respondent_is_anonymous(
        survey=survey, member=member, invitation=invitation, wants_anonymous=wants_anonymous
    )
    # The product knows who gave this anonymous answer: it goes through the mixing pool,
    # never into the same transaction (or order) as the participation that names them.
    if anonymous and (member is not None or invitation is not None):
        return _pooled_submit(
            survey=survey,
            clean=clean,
            idempotency_key=idempotency_key,
            language=language,
            member=member,
            invitation=invitation,
            channel=channel,
        )
    question_types = {q.pk: q.type for q in questions}
    # Scored before the transaction: on SQLite it holds the database's one write lock.
    answers_score(clean=clean, question_types=question_types)
    now = timezone.now()
    consent = bool(consent_to_contact) and not anonymous
    draft = response_draft(
        survey=survey,
        clean=clean,
        question_types=question_types,
        idempotency_key=idempotency_key,
        language=language,
        member=None if anonymous else member,
        invitation=None if anonymous else invitation,
        channel=channel,
        location=location,
        anonymous=anonymous,
        consent_to_contact=consent,
        # An anonymous response with no known respondent (public link, kiosk) keeps the hour.
        submitted_at=now.replace(minute=0, second=0, microsecond=0) if anonymous else now,
        stored_at=now,
    )
    riders = None
    if member is None and invitation is None:
        riders = _at_once(draft, clean, admit, refund)
    if riders is not None:
        outcome = _submit_at_once(draft, admit=admit, refund=refund, current=current, riders=riders)
        if isinstance(outcome, StoredResponse):
            return SubmitResult(response=outcome.response, created=True)
        if outcome is None and current is not None:
            # Nothing stored: a resend, or the copy is out of date; the fresh copy decides.
            raise StaleCopy
        # A resend, or refused by `admit`: the transaction below says which, as always.
    # Worked out before the transaction: on SQLite it holds the one writer's turn.
    prepared = response_reactions_prepare(draft.stored)
    try:
        with transaction.atomic():
            return _submit(
                survey=survey,
                clean=clean,
                draft=draft,
                at=now,
                member=member,
                invitation=invitation,
                consent_to_contact=consent,
                admit=admit,
                current=current,
                prepared=prepared,
            )
    except _NotStored as refused:
        if current is not None:
            raise StaleCopy from None
        # Rolled back. A resend (same key) gets the first answer; another answer is refused.
        first = _first_with_key(survey=survey, idempotency_key=idempotency_key)
        if first is not None:
            return first
        if refused.message is None:
            # The key's response vanished between the conflict and this read (deleted):
            # nothing to return and nothing stored.
            raise AlreadyAnswered(_link_used_message(), code="already_answered") from None
        raise AlreadyAnswered(refused.message, code="already_answered") from None


class StaleCopy(Exception):
    """A submit made with the process's copy of a kiosk stored nothing: the copy may be out
    of date (the kiosk switched off, its survey edited or closed), so the caller reads the
    kiosk afresh and submits again."""


def _link_used_message() -> str:
    return _("This link has already been used to answer. Thank you!")


class _NotStored(Exception):
    """Raised inside the submit's transaction to roll it back: a resend of a stored answer
    (message None), or a second answer refused with `message`."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.message = message


def _at_once(
    draft: ResponseDraft,
    clean: Mapping[int, Mapping[str, Any]],
    admit: Callable[[], None] | None,
    refund: Callable[[], None] | None,
) -> list[Rider] | None:
    """Whether a response nobody is known to have given (a kiosk, a public link) can be
    written with all its submit writes in one statement, and what the reactions add to it
    (their riders): PostgreSQL writes the response, its answers and choices in one, no
    webhook would be sent, and every reaction can say beforehand what it writes (a
    detractor's case, say). Then that statement needs no transaction around it. None when
    it cannot."""
    response = draft.stored.response
    if not (
        connection.vendor == "postgresql"
        and bool(clean)
        and (admit is None or refund is not None)
        and not webhook_subscribed(
            organisation=response.organisation_id, event=WebhookEvent.RESPONSE_CREATED
        )
    ):
        return None
    return response_reactions_riders(draft.stored)


# _submit_at_once's word that `admit` refused before anything was written.
_REFUSED_NOTHING_WRITTEN = object()


def _submit_at_once(
    draft: ResponseDraft,
    *,
    admit: Callable[[], None] | None,
    refund: Callable[[], None] | None,
    current: KioskCurrent | None,
    riders: list[Rider],
) -> StoredResponse | object | None:
    """Write the response in its one statement with what the reactions write for it
    (`riders`), which is its own transaction: no BEGIN, no COMMIT, nothing to roll back
    (every row in it follows from the response's insert, so it writes all or nothing).
    `admit` is asked first and refunded when nothing is stored. Returns the stored
    response; None when nothing was written (a resend, or `current` no longer holds);
    _REFUSED_NOTHING_WRITTEN when `admit` refused — the caller's transaction then asks
    again in its usual order, so a resend is still found."""
    if admit is not None:
        try:
            admit()
        except Exception:  # noqa: BLE001 - any refusal: given back, then asked again in order
            refund()
            return _REFUSED_NOTHING_WRITTEN
    stored = draft_write(draft, current=current, riders=riders)
    if stored is None and refund is not None and admit is not None:
        refund()
    return stored


def _submit(
    *,
    survey: Survey,
    clean: dict[int, dict[str, Any]],
    draft: ResponseDraft,
    at: datetime,
    member: Member | None,
    invitation: SurveyInvitation | None,
    consent_to_contact: bool,
    admit: Callable[[], None] | None,
    current: KioskCurrent | None,
    prepared: tuple = (),
) -> SubmitResult:
    """The hot path: a handful of statements, no savepoint, no read before a write that a
    unique constraint guards; any refusal raises _NotStored and the caller's transaction
    rolls everything back."""
    part = None
    if member is not None:
        part = _member_answering(survey=survey, member=member, at=at, consent=consent_to_contact)
    if invitation is not None:
        if part is not None:
            # The member's lock first, then the link's, in the order every submit takes them.
            part.write()
            _refuse_a_second_answer(part)
        # Two devices sending one personal link at once: the second waits on the first's
        # row lock here, then finds it used.
        if not invitation_claim(invitation_id=invitation.pk, at=at):
            raise _NotStored(_link_used_message())
    stored = draft_write(
        draft,
        # Written with the response (one statement on PostgreSQL) unless written above.
        member_part=part if part is not None and part.new is None else None,
        current=current,
    )
    if part is not None:
        _refuse_a_second_answer(part)
    if stored is None:
        raise _NotStored()
    if admit is not None:
        admit()
    awarded = survey_points_earned(survey=survey) if part is not None and part.awarded else 0
    result = SubmitResult(response=stored.response, created=True, points_awarded=awarded)
    # Follow-up rules (feedback's reaction) run in this transaction, so a case and its
    # email row commit with the response.
    response_reactions_run(replace(stored, consent_just_given=consent_to_contact), prepared)
    response_created_emit(response=stored.response, clean=clean)
    return result


def _member_answering(
    *, survey: Survey, member: Member, at: datetime, consent: bool
) -> MemberAnswering:
    """The member's side of an answer, written first, under their lock: activity,
    participation, points, consent (statements.MemberAnswering; on PostgreSQL, part of the
    response's own statement)."""
    points = survey_points_earned(survey=survey)
    award = None
    if points:
        # Keyed on survey and member, not the response: one award per member and survey.
        award = points_award_row(
            organisation_id=survey.organisation_id,
            member_id=member.pk,
            points=points,
            reason=survey_points_reason(survey=survey),
            source=f"surveys.survey:{survey.pk}",
            idempotency_key=survey_points_key(survey_id=survey.pk, member_id=member.pk),
            at=at,
            detail=survey_points_detail(survey=survey, member=member),
        )
    return MemberAnswering(
        member_id=member.pk,
        at=at,
        participation={
            "organisation": survey.organisation_id,
            "survey": survey.pk,
            "member": member.pk,
            "completed_on": timezone.localdate(at),
            "points_pending": 0,
        },
        award=award,
        # communities.services.consent_append's row: the respondent's latest word.
        consent={
            "organisation": member.organisation_id,
            "member": member.pk,
            "purpose": ConsentPurpose.CONTACT_FOLLOWUP,
            "granted": True,
            "channel": ConsentChannel.WEB,
            "policy_version": member.community.policy_version,
            "recorded_at": at,
        }
        if consent
        else None,
        only_once=not survey.allow_multiple_responses,
    )


def _refuse_a_second_answer(part: MemberAnswering) -> None:
    """Raise _NotStored (the caller's transaction then rolls it all back) when the member
    had answered already and the survey takes one answer each."""
    if part.only_once and not part.new:
        raise _NotStored(_("You have already answered this survey. Thank you!"))


def response_created_emit(*, response: Response, clean: Mapping[int, Mapping[str, Any]]) -> int:
    """Tell the organisation's webhook endpoints about a response just written, in its
    transaction (costs no query when none is subscribed). The member is named only for an
    answer that is not anonymous and whose respondent agreed to be contacted about it."""
    if not webhook_subscribed(
        organisation=response.organisation_id, event=WebhookEvent.RESPONSE_CREATED
    ):
        return 0
    channel = response.channel
    named = not response.is_anonymous and response.consent_to_contact
    return webhook_emit(
        organisation=response.organisation_id,
        event=WebhookEvent.RESPONSE_CREATED,
        event_id=f"response.created:{response.pk}",
        data={
            "survey": response.survey_id,
            "response": response.pk,
            "channel": channel.kind if channel is not None else None,
            "location": response.location_id,
            "language": response.language,
            "submitted_at": response.submitted_at,
            "anonymous": response.is_anonymous,
            "member": response.member_id if named else None,
            "answers": {
                str(qid): {
                    "number": value.get("number"),
                    "text": value.get("text"),
                    "choices": list(value.get("choice_ids", ())),
                }
                for qid, value in clean.items()
            },
        },
    )


@transaction.atomic
def _pooled_submit(
    *,
    survey: Survey,
    clean: dict[int, dict[str, Any]],
    idempotency_key: str,
    language: str,
    member: Member | None,
    invitation: SurveyInvitation | None,
    channel: Channel | None,
) -> SubmitResult:
    """A known respondent's anonymous answer: into the mixing pool, with their
    participation (and the points it waits on), never a Response naming them."""
    points = (
        survey_points_earned(survey=survey) if member is not None and survey.anonymous_points else 0
    )
    now = timezone.now()
    if member is None:
        first = _first_with_key(survey=survey, idempotency_key=idempotency_key)
        if first is not None:
            return first
    else:
        member_lock(member_id=member.pk)
        # A double submit that waited on the lock finds the first one's answer here.
        first = _first_with_key(survey=survey, idempotency_key=idempotency_key)
        if first is not None:
            return first
        _participation_record(
            survey=survey, member=member, day=timezone.localdate(now), points_pending=points
        )
    if invitation is not None:
        # Two devices sending one personal link at once: the second waits here, then
        # finds it used.
        invitation = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.responded_at is not None:
            raise AlreadyAnswered(_link_used_message(), code="already_answered")
    answer_pool(
        survey=survey,
        clean=clean,
        language=language,
        channel=channel,
        idempotency_key=idempotency_key,
    )
    if invitation is not None:
        SurveyInvitation.objects.filter(pk=invitation.pk).update(responded_at=now)
    if member is not None:
        # An anonymous answer records only the day, as its Participation does, so the
        # member's row cannot date the response.
        day_start = timezone.make_aware(
            datetime.combine(timezone.localdate(now), datetime.min.time())
        )
        member_activity_touch(member_id=member.pk, at=day_start)
    return SubmitResult(response=None, created=True, pooled=True, points_pending=points)


def survey_points_key(*, survey_id: int, member_id: int) -> str:
    """The ledger key of a survey's points: one award per member and survey."""
    return f"survey:{survey_id}:member:{member_id}"


def survey_points_earned(*, survey: Survey) -> int:
    """The points a member earns by answering: the survey's own, else, for a poll, its
    community's poll points (rewards' earning rules). The policy comes with the survey's
    lookup (surveys.lookups joins it), so the answering path spends no query on it."""
    if survey.points:
        return survey.points
    if survey.kind == SurveyKind.POLL and survey.community_id:
        return poll_points_for(community=survey.community)
    return 0


def survey_points_reason(*, survey: Survey) -> str:
    """The ledger reason of those points: a survey's own points are for completing it, a
    poll's points from the community's rules are for voting."""
    if not survey.points and survey.kind == SurveyKind.POLL:
        return LedgerReason.POLL_VOTED
    return LedgerReason.SURVEY_COMPLETED


def survey_points_detail(*, survey: Survey, member: Member) -> dict[str, str]:
    """What the member's history shows beside the award: the survey's title in their
    language. It names the survey, never the response (anonymous answers included)."""
    return {"title": translated(survey.title, member.locale)}


def _first_with_key(*, survey: Survey, idempotency_key: str) -> SubmitResult | None:
    """What a double submit gets: the first response, or word that its answer is pooled."""
    first = Response.objects.filter(survey=survey, idempotency_key=idempotency_key).first()
    if first is not None:
        return SubmitResult(response=first, created=False)
    # Only a survey that may be answered anonymously has a pool to look in.
    if (
        survey.anonymity != Anonymity.IDENTIFIED
        and PooledAnswer.objects.filter(survey=survey, idempotency_key=idempotency_key).exists()
    ):
        return SubmitResult(response=None, created=False, pooled=True)
    return None


def _participation_record(*, survey: Survey, member: Member, day, points_pending: int) -> None:
    """Record that the member took part (under their lock), or refuse a second answer."""
    if (
        not survey.allow_multiple_responses
        and Participation.objects.filter(survey=survey, member=member).exists()
    ):
        raise AlreadyAnswered(
            _("You have already answered this survey. Thank you!"), code="already_answered"
        )
    fields = {
        "organisation_id": survey.organisation_id,
        "completed_on": day,
        "points_pending": points_pending,
    }
    if survey.allow_multiple_responses:
        Participation.objects.get_or_create(survey=survey, member=member, defaults=fields)
    else:
        # The member's lock is held and none exists: a plain insert cannot collide.
        Participation.objects.create(survey=survey, member=member, **fields)
