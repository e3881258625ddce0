"""The mixing pool: anonymous answers from respondents the product knows.

When a signed-in member or a personal link answers an anonymous survey, the request's
transaction records what names the person (the participation, the used invitation, the
points owed) and puts the answer, with nothing that names anyone, into `PooledAnswer`.
A worker releases the pool in batches of at least k answers per survey (k is the
organisation's minimum group size, at least 5): shuffled, in one transaction per batch,
each Response stamped with the batch's hour and a fresh key, its analysis and cases made
then with the same coarse time. The points owed go out afterwards in another transaction,
shuffled, dated by day. So neither a staff page nor a database reader (timestamps, id
order, on-disk order, the transaction that wrote a row) can tie an answer to its member;
while an answer is pooled, only the pool row itself (deleted on release) could be.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from communities.choices import MemberStatus
from communities.models import Member
from config.queue import enqueue_on_commit
from rewards.services import points_award
from surveys.choices import SurveyStatus
from surveys.models import Channel, Choice, Participation, PooledAnswer, Question, Survey
from surveys.reactions import response_reactions_run
from surveys.services.writing import response_write

# Never release fewer at once than this, whatever the organisation's group size.
POOL_MIN_BATCH = 5

_shuffle = secrets.SystemRandom().shuffle


def pool_batch_size(*, survey: Survey) -> int:
    """k: the fewest pooled answers of a survey released together."""
    return max(POOL_MIN_BATCH, survey.organisation.min_group_size)


def answer_pool(
    *,
    survey: Survey,
    clean: dict[int, dict[str, Any]],
    language: str,
    channel: Channel | None,
    idempotency_key: str,
) -> PooledAnswer:
    """Put an anonymous answer into the pool (the caller's transaction); once k answers
    wait, a release is enqueued after commit."""
    pooled = PooledAnswer.objects.create(
        organisation_id=survey.organisation_id,
        survey=survey,
        channel=channel,
        language=language,
        answers={str(qid): value for qid, value in clean.items()},
        idempotency_key=idempotency_key,
    )
    if PooledAnswer.objects.filter(survey=survey).count() >= pool_batch_size(survey=survey):
        from surveys.tasks import anonymous_pool_release_task

        enqueue_on_commit(anonymous_pool_release_task, survey_id=survey.pk)
    return pooled


def _is_closed(survey: Survey, now: datetime) -> bool:
    return survey.status == SurveyStatus.CLOSED or bool(
        survey.closes_at and now >= survey.closes_at
    )


def _release_due(*, survey: Survey, waiting: list[PooledAnswer], now: datetime) -> bool:
    if not waiting:
        return False
    if len(waiting) >= pool_batch_size(survey=survey) or _is_closed(survey, now):
        return True
    longest = survey.organisation.anonymous_pool_max_days
    oldest = min(row.pooled_on for row in waiting)
    return longest is not None and oldest <= timezone.localdate(now) - timedelta(days=longest)


def _answers_that_still_apply(
    answers: dict[str, Any], question_types: dict[int, str], choice_ids: set[int]
) -> dict[int, dict[str, Any]]:
    """The pooled answers to questions and choices the survey still has (a question
    without answers may be deleted while its answers wait in the pool)."""
    clean = {}
    for key, value in answers.items():
        qid = int(key)
        if qid not in question_types:
            continue
        if "choice_ids" in value:
            value = {**value, "choice_ids": [c for c in value["choice_ids"] if c in choice_ids]}
        clean[qid] = value
    return clean


@transaction.atomic
def anonymous_pool_release(*, survey_id: int, now: datetime | None = None) -> int:
    """Turn the survey's pooled answers into Responses as one shuffled batch, if a batch is
    due (k waiting, the survey closed, or the organisation's longest wait passed).

    Returns how many were released. Safe to run twice or concurrently: the survey's row
    lock serialises releases, and released rows are deleted in the same transaction.
    """
    now = now or timezone.now()
    survey = (
        # NO KEY: serialises releases of this survey without blocking new answers, whose
        # inserts take a KEY SHARE lock on the survey row.
        Survey.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organisation")
        .filter(pk=survey_id)
        .first()
    )
    if survey is None:
        return 0
    waiting = list(PooledAnswer.objects.filter(survey=survey))
    if not _release_due(survey=survey, waiting=waiting, now=now):
        return 0
    _shuffle(waiting)
    batch_time = now.replace(minute=0, second=0, microsecond=0)
    question_types = dict(Question.objects.filter(survey=survey).values_list("pk", "type"))
    choice_ids = set(Choice.objects.filter(question__survey=survey).values_list("pk", flat=True))
    # responses imports this module, so its emit is reached at call time.
    from surveys.services.responses import response_created_emit

    for row in waiting:
        clean = _answers_that_still_apply(row.answers, question_types, choice_ids)
        stored = response_write(
            survey=survey,
            clean=clean,
            question_types=question_types,
            idempotency_key=secrets.token_urlsafe(32)[:43],
            language=row.language,
            member=None,
            invitation=None,
            channel=row.channel,
            location=None,
            anonymous=True,
            consent_to_contact=False,
            submitted_at=batch_time,
            stored_at=batch_time,
            pooled=True,
        )
        # A fresh random key never collides: the response is always written.
        response_reactions_run(stored)
        response_created_emit(response=stored.response, clean=clean)
    PooledAnswer.objects.filter(pk__in=[row.pk for row in waiting]).delete()
    return len(waiting)


@transaction.atomic
def anonymous_points_release(*, survey_id: int, now: datetime | None = None) -> int:
    """Award the points owed for a survey's anonymous answers, shuffled and dated by day,
    in a transaction of their own; returns how many members were credited. Each entry
    names the survey (its title, for the member's history) and nothing of the answer."""
    now = now or timezone.now()
    owed = list(
        Participation.objects.select_for_update(of=("self",))
        .filter(survey_id=survey_id, points_pending__gt=0)
        .select_related("member")
    )
    if not owed:
        return 0
    _shuffle(owed)
    day = timezone.make_aware(datetime.combine(timezone.localdate(now), datetime.min.time()))
    from surveys.services.responses import (
        survey_points_detail,
        survey_points_key,
        survey_points_reason,
    )

    survey = Survey.objects.only("title", "kind", "points").get(pk=survey_id)
    reason = survey_points_reason(survey=survey)
    credited = 0
    for participation in owed:
        member: Member = participation.member
        if member.status == MemberStatus.ERASED:
            continue
        _entry, created = points_award(
            member=member,
            points=participation.points_pending,
            reason=reason,
            source=f"surveys.survey:{survey_id}",
            idempotency_key=survey_points_key(survey_id=survey_id, member_id=member.pk),
            at=day,
            detail=survey_points_detail(survey=survey, member=member),
        )
        credited += created
    Participation.objects.filter(pk__in=[p.pk for p in owed]).update(points_pending=0)
    return credited


def anonymous_pool_settle(*, survey_id: int) -> int:
    """Release the survey's batch if one is due, then, in a transaction of its own, award
    the points owed — once nothing is left waiting, or a batch just went out — so points do
    not run ahead of the answers that earned them. Returns how many answers were released."""
    released = anonymous_pool_release(survey_id=survey_id)
    if released or not PooledAnswer.objects.filter(survey_id=survey_id).exists():
        anonymous_points_release(survey_id=survey_id)
    return released


def anonymous_pool_sweep(*, now: datetime | None = None) -> int:
    """Release every survey whose batch is due and award points still owed (the beat task:
    a survey that closed, a longest wait that passed, a release whose task was lost)."""
    from surveys.tasks import anonymous_pool_release_task

    waiting = set(PooledAnswer.objects.values_list("survey_id", flat=True).distinct())
    owed = set(
        Participation.objects.filter(points_pending__gt=0).values_list("survey_id", flat=True)
    )
    for survey_id in sorted(waiting | owed):
        anonymous_pool_release_task.delay(survey_id=survey_id)
    return len(waiting | owed)


def survey_pooled_count(*, survey: Survey) -> int:
    """How many anonymous answers wait in the pool (shown to staff as a number only)."""
    return PooledAnswer.objects.filter(survey=survey).count()
