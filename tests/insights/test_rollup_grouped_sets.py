"""One statement for every breakdown (insights.rollups.read `Source.grouped_sets`) gives
exactly what a grouping per query gives, and what the responses say: over month rows and
the partial months' day rows, with a live tail past the watermark and a dirty day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from insights.rollups.fold import rollups_fold
from insights.rollups.read import rollup_source
from surveys.metrics import components_add, metric_aggregates
from surveys.models import Answer, Response
from tests.factories.surveys import AnswerFactory, ResponseFactory
from tests.insights.seed import END, START, seed

pytestmark = pytest.mark.django_db

SETS = {
    "survey": ("survey_id",),
    "language": ("language",),
    "store": ("location_id", "location__name", "channel__kind"),
    "day": ("submitted_on",),
    "whole": (),
}


def keyed(rows: list[dict], by: tuple[str, ...]) -> dict:
    return {tuple(row[name] for name in by): components_add([row]) for row in rows}


def raw(organisation, by: tuple[str, ...]) -> dict:
    responses = Response.objects.filter(
        organisation=organisation, submitted_on__gte=START, submitted_on__lte=END
    )
    if not by:
        return {(): components_add([responses.aggregate(**metric_aggregates())])}
    rows = responses.values(*by).annotate(**metric_aggregates()).order_by()
    return keyed(list(rows), by)


def read_both(organisation) -> tuple[dict, dict]:
    source = rollup_source(organisation=organisation, start=START, end=END)
    together = source.grouped_sets(SETS)
    apart = {name: source.grouped(*by) if by else [source.aggregate()] for name, by in SETS.items()}
    return together, apart


@pytest.fixture
def seeded(organisation, community):
    return seed(organisation, community)


def test_every_grouping_in_one_statement_equals_one_query_each_and_the_responses(
    organisation, seeded
):
    # given: folded (the range starts mid-month, so month rows and edge days both serve)
    rollups_fold()

    # when
    together, apart = read_both(organisation)

    # then
    for name, by in SETS.items():
        assert keyed(together[name], by) == keyed(apart[name], by), name
        if name != "day":  # month rows are keyed by the month's first day
            assert keyed(together[name], by) == raw(organisation, by), name


def test_a_live_tail_and_a_dirty_day_are_counted_once(organisation, seeded):
    # given: folded, then a new response past the watermark and an answer edited
    surveys, _stores = seeded
    rollups_fold()
    noon = timezone.make_aware(dt.datetime.combine(END, dt.time(12)))
    response = ResponseFactory(survey=surveys[0], language="ja", submitted_at=noon)
    AnswerFactory(response=response, question=surveys[0].questions.get(type="nps"), number=2)
    answer = Answer.objects.filter(organisation=organisation, question_type="nps").first()
    answer.number = 10 if answer.number != 10 else 0
    answer.save()

    # when
    together, apart = read_both(organisation)

    # then
    for name, by in SETS.items():
        assert keyed(together[name], by) == keyed(apart[name], by), name
    assert keyed(together["survey"], ("survey_id",)) == raw(organisation, ("survey_id",))
    assert keyed(together["whole"], ()) == raw(organisation, ())


def test_nothing_to_read_gives_empty_groupings(organisation):
    # given: no response at all
    source = rollup_source(
        organisation=organisation, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31)
    )

    # when
    found = source.grouped_sets({"survey": ("survey_id",)})

    # then
    assert found == {"survey": []}
