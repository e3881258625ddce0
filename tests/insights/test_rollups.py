"""The roll-ups hold exactly what the responses say: after a fold, after new submits
(read live as the tail until folded), after an answer is edited, a response deleted, a
store deleted, a member erased, an id missing when the fold passed it, and after a
rebuild; and the fold is idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Sum

from communities.flows import member_erase
from insights.models import COUNT_FIELDS, RollupBucket, RollupMonth, RollupState
from insights.rollups.fold import bucket_aggregates, rollups_fold
from insights.rollups.read import rollup_source
from surveys.models import Answer, Response
from tests.factories.communities import OrganisationFactory
from tests.factories.surveys import AnswerFactory, ResponseFactory
from tests.insights.seed import seed

pytestmark = pytest.mark.django_db

EARLY, LATE = dt.date(2000, 1, 1), dt.date(2100, 1, 1)
KEY = ("survey_id", "submitted_on", "channel_id", "location_id", "language")


def raw_groups(organisation) -> dict:
    """Every survey × day × channel × store × language's components, from the responses."""
    rows = (
        Response.objects.filter(organisation=organisation)
        .values(*KEY)
        .annotate(**bucket_aggregates())
        .order_by()
    )
    return {
        tuple(row[k] for k in KEY): {name: row[name] or 0 for name in COUNT_FIELDS} for row in rows
    }


def rolled_groups(organisation) -> dict:
    rows = (
        RollupBucket.objects.filter(organisation=organisation)
        .values(*KEY)
        .annotate(**{name: Sum(name) for name in COUNT_FIELDS})
        .order_by()
    )
    return {tuple(row[k] for k in KEY): {n: int(row[n]) for n in COUNT_FIELDS} for row in rows}


def months_match_days(organisation) -> bool:
    """Each month row is the sum of its month's day rows."""
    from collections import defaultdict

    dims = ("survey_id", "channel_id", "location_id", "language")
    summed: dict = defaultdict(lambda: dict.fromkeys(COUNT_FIELDS, 0))
    for row in RollupBucket.objects.filter(organisation=organisation).values(
        *dims, "submitted_on", *COUNT_FIELDS
    ):
        key = (*(row[d] for d in dims), row["submitted_on"].replace(day=1))
        for name in COUNT_FIELDS:
            summed[key][name] += row[name]
    months: dict = defaultdict(lambda: dict.fromkeys(COUNT_FIELDS, 0))
    for row in RollupMonth.objects.filter(organisation=organisation).values(
        *dims, "submitted_on", *COUNT_FIELDS
    ):
        key = (*(row[d] for d in dims), row["submitted_on"])
        for name in COUNT_FIELDS:
            months[key][name] += row[name]
    return dict(summed) == dict(months) and bool(months)


def read_total(organisation) -> dict:
    """What a dashboard reads for everything: roll-ups plus the live tail."""
    return rollup_source(organisation=organisation, start=EARLY, end=LATE).aggregate()


def raw_total(organisation) -> dict:
    from surveys.metrics import components_add, metric_aggregates

    row = Response.objects.filter(organisation=organisation).aggregate(**metric_aggregates())
    return components_add([row])


@pytest.fixture
def seeded(organisation, community):
    return seed(organisation, community)


def test_a_fold_holds_every_response_and_equals_the_raw_groups(organisation, seeded):
    # when
    folded = rollups_fold()

    # then
    assert folded == Response.objects.count()
    assert RollupState.objects.get(pk=1).watermark == Response.objects.order_by("pk").last().pk
    assert rolled_groups(organisation) == raw_groups(organisation)
    assert months_match_days(organisation)
    assert read_total(organisation) == raw_total(organisation)


def test_folding_again_changes_nothing(organisation, seeded):
    # given
    rollups_fold()
    before = sorted(RollupBucket.objects.values_list(*KEY, *COUNT_FIELDS))

    # when
    assert rollups_fold() == 0
    rollups_fold_task_result = rollups_fold()

    # then
    assert rollups_fold_task_result == 0
    assert sorted(RollupBucket.objects.values_list(*KEY, *COUNT_FIELDS)) == before


def test_a_submit_after_the_fold_is_read_live_then_folded(organisation, seeded):
    # given
    surveys, _stores = seeded
    rollups_fold()
    question = surveys[0].questions.get(type="nps")

    # when: a new response arrives past the watermark
    response = ResponseFactory(survey=surveys[0], language="ja")
    AnswerFactory(response=response, question=question, number=2)

    # then: the read counts it before any fold, and the fold takes it in
    assert read_total(organisation) == raw_total(organisation)
    assert rolled_groups(organisation) != raw_groups(organisation)
    assert rollups_fold() == 1
    assert rolled_groups(organisation) == raw_groups(organisation)
    assert read_total(organisation) == raw_total(organisation)


def test_an_answer_edited_after_the_fold_marks_its_day_dirty(organisation, seeded):
    # given
    rollups_fold()
    answer = Answer.objects.filter(organisation=organisation, question_type="nps").first()
    answer.number = 10 if answer.number != 10 else 0

    # when
    answer.save()

    # then: read live until refolded, exact throughout
    state = RollupState.objects.get(pk=1)
    assert state.dirty == [
        [organisation.pk, answer.response.survey_id, answer.response.submitted_on.isoformat()]
    ]
    assert read_total(organisation) == raw_total(organisation)
    rollups_fold()
    assert RollupState.objects.get(pk=1).dirty == []
    assert rolled_groups(organisation) == raw_groups(organisation)
    assert months_match_days(organisation)


def test_a_deleted_response_and_answer_leave_the_rollups_equal(organisation, seeded):
    # given
    rollups_fold()

    # when
    Response.objects.filter(organisation=organisation).order_by("pk").first().delete()
    Answer.objects.filter(organisation=organisation, question_type="csat").last().delete()

    # then
    assert read_total(organisation) == raw_total(organisation)
    rollups_fold()
    assert rolled_groups(organisation) == raw_groups(organisation)


def test_a_deleted_store_moves_its_rollups_with_its_responses(organisation, seeded):
    # given
    _surveys, stores = seeded
    rollups_fold()

    # when
    stores["Silom"].delete()

    # then: both fall under "no store", without a fold
    assert rolled_groups(organisation) == raw_groups(organisation)
    assert months_match_days(organisation)


def test_member_erasure_leaves_the_figures_equal(organisation, seeded, member):
    # given: a member's identified responses, folded
    surveys, _stores = seeded
    for _ in range(3):
        response = ResponseFactory(survey=surveys[1], member=member)
        AnswerFactory(response=response, question=surveys[1].questions.get(type="star"), number=4)
    rollups_fold()

    # when
    member_erase(member=member)

    # then
    assert not Response.objects.filter(member=member).exists()
    assert read_total(organisation) == raw_total(organisation)
    assert rolled_groups(organisation) == raw_groups(organisation)


def test_an_id_missing_when_folded_is_read_live_when_it_turns_up(organisation, seeded):
    # given: the newest response is "not yet committed" when the fold passes it
    last = Response.objects.order_by("pk").last()
    answers = list(Answer.objects.filter(response=last).values("question_id", "number"))
    kept = {f.attname: getattr(last, f.attname) for f in Response._meta.concrete_fields}
    missing = last.pk
    last.delete()
    ResponseFactory(survey=last.survey)  # a later id, so the missing one is under the mark
    rollups_fold()
    assert missing in RollupState.objects.get(pk=1).pending_ids

    # when: it commits
    Response.objects.create(**kept)
    for answer in answers:
        AnswerFactory(response=Response.objects.get(pk=missing), **answer)

    # then
    assert read_total(organisation) == raw_total(organisation)
    rollups_fold()
    assert RollupState.objects.get(pk=1).pending_ids == []
    assert rolled_groups(organisation) == raw_groups(organisation)


def test_the_rebuild_command_reproduces_the_rollups(organisation, seeded):
    # given: folded roll-ups, then damaged
    other = OrganisationFactory()
    ResponseFactory(survey__organisation=other)
    rollups_fold()
    RollupBucket.objects.filter(organisation=organisation).update(responses=999)
    RollupBucket.objects.filter(organisation=organisation).first().delete()
    RollupMonth.objects.filter(organisation=organisation).update(nps_answers=0)
    others = sorted(RollupBucket.objects.filter(organisation=other).values_list("pk", flat=True))

    # when
    call_command("rollups_rebuild", organisation=organisation.slug)

    # then: this organisation's rows are exact again; the other's untouched
    assert rolled_groups(organisation) == raw_groups(organisation)
    assert months_match_days(organisation)
    assert sorted(RollupBucket.objects.filter(organisation=other).values_list("pk", flat=True)) == (
        others
    )


def test_the_rebuild_command_refuses_an_unknown_organisation(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rollups_rebuild", organisation="no-such-slug")
