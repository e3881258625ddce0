"""The survey results page and API read roll-ups (insights.rollups.results, registered as
surveys' results reader): every count they are finished from, and so every figure, must
equal a scan of the responses over the same data — folded wholly, half (the rest read
live), with survey-days marked dirty, and with responses arriving after the fold — under
every filter the page offers. The per-question roll-ups fold idempotently and a rebuild
reproduces them exactly."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command

from insights.models import RollupAnswer, RollupState
from insights.rollups.dirty import rollups_mark_dirty
from insights.rollups.fold import rollups_fold, rollups_fold_all, rollups_rebuild
from insights.rollups.results import results_counts_rollups
from surveys.choices import ChannelKind
from surveys.exports.params import ExportParams
from surveys.metrics import components_add
from surveys.models import Response
from surveys.selectors_results import (
    register_results_reader,
    results_counts_scan,
    results_reader,
    survey_results,
)
from tests.factories.insights_questions import FIRST_DAY, results_answer, results_world

pytestmark = pytest.mark.django_db

STATES = ["unfolded", "folded", "half-folded", "folded-with-dirty-days", "folded-then-more"]


def _filters(survey) -> list[ExportParams]:
    store = survey.organisation.locations.order_by("name").first()
    week3, week7 = FIRST_DAY + dt.timedelta(days=14), FIRST_DAY + dt.timedelta(days=48)
    return [
        ExportParams(),
        ExportParams(since=week3),
        ExportParams(until=week7),
        ExportParams(since=week3, until=week7),
        # A span holding a whole calendar month (read from the month rows) and edges.
        ExportParams(since=dt.date(2025, 1, 30), until=dt.date(2025, 3, 3)),
        ExportParams(channel=ChannelKind.KIOSK),
        ExportParams(channel=ChannelKind.LINK),
        ExportParams(location_id=store.pk),
        ExportParams(language="th"),
        ExportParams(channel=ChannelKind.EMAIL, language="en", since=week3),
        ExportParams(location_id=store.pk, channel=ChannelKind.API, until=week7),
        ExportParams(since=dt.date(2030, 1, 1)),  # matches nothing
    ]


def _normal(counts) -> dict:
    """The counts as plain comparable values (groups keyed, merged, zeros dropped)."""
    stores: dict = defaultdict(list)
    for row in counts.by_store_channel:
        stores[(row["location_id"], row["location__name"], row["channel__kind"])].append(row)
    languages: dict = defaultdict(list)
    for row in counts.by_language:
        languages[row["language"]].append(row)

    def nonzero(split: dict) -> dict:
        return {q: {k: n for k, n in c.items() if n} for q, c in split.items() if any(c.values())}

    return {
        "total": components_add([counts.total]),
        "sentiment": None if counts.sentiment_mean is None else round(counts.sentiment_mean, 9),
        "languages": {key: components_add(rows) for key, rows in languages.items()},
        "stores": {key: components_add(rows) for key, rows in stores.items()},
        "answers": {q: n for q, n in counts.question_answers.items() if n},
        "numbers": nonzero(counts.by_number),
        "choices": nonzero(counts.by_choice),
    }


@pytest.fixture(params=STATES)
def world(request, organisation, community):
    organisation.min_group_size = 3
    organisation.save(update_fields=["min_group_size"])
    survey = results_world(organisation=organisation, community=community, responses=70)
    if request.param == "half-folded":
        rollups_fold(batch=Response.objects.count() // 2)
        assert (
            0 < RollupState.objects.get(pk=1).watermark < Response.objects.order_by("pk").last().pk
        )
    elif request.param != "unfolded":
        rollups_fold_all()
    if request.param == "folded-with-dirty-days":
        for response in Response.objects.order_by("pk")[::6]:
            rollups_mark_dirty(
                organisation_id=organisation.pk,
                survey_id=response.survey_id,
                day=response.submitted_on,
            )
        assert RollupState.objects.get(pk=1).dirty
    if request.param == "folded-then-more":
        for index in range(70, 85):
            results_answer(survey, index)
    return survey


def test_results_from_rollups_equal_the_scan_under_every_filter(world, organisation):
    # given a survey's responses in one of the fold states, and the roll-up reader
    # registered (as InsightsConfig.ready() does)
    assert results_reader() is results_counts_rollups
    for params in _filters(world):
        # when both readers count the same filtered set, and the results are built
        # through each
        scanned = results_counts_scan(organisation=organisation, survey=world, params=params)
        rolled = results_counts_rollups(organisation=organisation, survey=world, params=params)
        from_rollups = survey_results(organisation=organisation, survey=world, params=params)
        register_results_reader(None)
        try:
            from_scan = survey_results(organisation=organisation, survey=world, params=params)
        finally:
            register_results_reader(results_counts_rollups)
        # then every count, every figure and every suppressed cell is the same
        assert _normal(rolled) == _normal(scanned), params
        assert from_rollups == from_scan, params
    whole = survey_results(organisation=organisation, survey=world)
    assert not whole.withheld and whole.questions and whole.stores.rows


def test_without_a_registered_reader_results_scan_the_responses():
    register_results_reader(None)
    try:
        assert results_reader() is results_counts_scan
    finally:
        register_results_reader(results_counts_rollups)


def _rows() -> Counter:
    return Counter(
        RollupAnswer.objects.values_list(
            "organisation_id",
            "survey_id",
            "question_id",
            "submitted_on",
            "channel_id",
            "location_id",
            "language",
            "value",
            "choice_id",
            "month",
            "count",
        )
    )


def test_question_rollups_fold_idempotently_and_rebuild_exactly(organisation, community):
    # given a folded survey
    results_world(organisation=organisation, community=community, responses=40)
    rollups_fold_all()
    folded = _rows()
    assert folded
    # when it is folded again, rebuilt, and rebuilt by the command
    rollups_fold_all()
    assert _rows() == folded
    rollups_rebuild()
    assert _rows() == folded
    call_command("rollups_rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # then the rows are exactly the same every time
    assert _rows() == folded


def test_a_rebuild_of_one_organisation_leaves_the_others_rows(
    organisation, community, other_organisation
):
    # given two organisations' folded surveys
    results_world(organisation=organisation, community=community, responses=12)
    other_community = other_organisation.communities.first() or community.__class__.objects.create(
        organisation=other_organisation, name="Other"
    )
    results_world(organisation=other_organisation, community=other_community, responses=12)
    rollups_fold_all()
    before = _rows()
    # when one organisation's roll-ups are rebuilt
    RollupAnswer.objects.filter(organisation=other_organisation).update(count=999)
    rollups_rebuild(organisation=organisation)
    # then the other's rows are untouched (here: still tampered) and the first's exact
    after = _rows()
    assert {row for row in after if row[0] == organisation.pk} == {
        row for row in before if row[0] == organisation.pk
    }
    assert all(row[-1] == 999 for row in after if row[0] == other_organisation.pk)
