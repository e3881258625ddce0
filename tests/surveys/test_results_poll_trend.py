"""A poll's results over time: each week's (or month's) votes and each answer's share, in
a chart and a table of the same numbers, with every cell through the minimum group size
(a small cell hidden, and the next-smallest of its period and of its answer with it, as
the period's votes and the answer's total are both shown)."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from insights.rollups.fold import rollups_fold_all
from insights.rollups.results import results_counts_rollups
from surveys.choices import SurveyKind
from surveys.disclosure import is_small
from surveys.models import Choice
from surveys.poll_trend import period_start, poll_trend
from surveys.selectors_results import register_results_reader, survey_results
from surveys.services import question_add, survey_create, survey_publish
from tests.factories.surveys import AnswerFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db

K = 5
MONDAY = dt.date(2025, 3, 3)


@pytest.fixture
def poll(organisation, community):
    organisation.min_group_size = K
    organisation.save(update_fields=["min_group_size"])
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question_add(
        survey=poll,
        type="single_choice",
        text={"en": "Should we stock oat milk?"},
        choices=[{"en": "Yes"}, {"en": "No"}, {"en": "Maybe"}],
    )
    return survey_publish(survey=poll)


def votes(poll, day: dt.date, **by_label: int) -> None:
    question = poll.questions.get()
    for label, n in by_label.items():
        choice = Choice.objects.get(question=question, label__en=label)
        for _ in range(n):
            response = ResponseFactory(
                survey=poll,
                submitted_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
                submitted_on=day,
            )
            AnswerFactory(response=response, question=question, number=None).choices.set([choice])


def page(client, poll, **query) -> str:
    url = reverse("staff:survey_results", args=[poll.organisation.slug, poll.pk])
    response = client.get(url, query)
    assert response.status_code == 200
    return response.content.decode()


def trend_rows(html: str) -> dict[str, list[str]]:
    table = re.search(r'<table[^>]*id="poll-trend-table".*?</table>', html, re.S).group(0)
    return {
        period: [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", inner, re.S)[1:]
        ]
        for period, inner in re.findall(r'<tr data-period="([^"]+)">(.*?)</tr>', table, re.S)
    }


def test_staff_read_each_weeks_votes_and_shares(staff_client, poll):
    # given three weeks of votes, every cell of them at least k (or none)
    votes(poll, MONDAY, Yes=6, No=5)
    votes(poll, MONDAY + dt.timedelta(days=9), Yes=5, No=5, Maybe=5)
    votes(poll, MONDAY + dt.timedelta(days=20), No=8)
    # when the results page is opened
    html = page(staff_client, poll)
    # then a row per week (by its Monday): its votes, each answer's count and share
    assert trend_rows(html) == {
        "2025-03-03": ["11", "6 (55%)", "5 (45%)", "0 (0%)"],
        "2025-03-10": ["15", "5 (33%)", "5 (33%)", "5 (33%)"],
        "2025-03-17": ["8", "0 (0%)", "8 (100%)", "0 (0%)"],
    }
    # and the chart beside it says what it draws, for a screen reader too
    assert 'aria-labelledby="poll-trend-title poll-trend-desc"' in html
    assert html.count('<rect x="') >= 6


def test_months_on_request_and_a_bad_interval_is_ignored(staff_client, poll):
    votes(poll, MONDAY, Yes=6)
    votes(poll, MONDAY + dt.timedelta(days=30), No=7)
    assert list(trend_rows(page(staff_client, poll, every="month"))) == ["2025-03-01", "2025-04-01"]
    # a value that is no interval (or a pasted essay) falls back to the default: weeks
    for bad in ("fortnight", "", "x" * 5000, "month\x00"):
        assert list(trend_rows(page(staff_client, poll, every=bad))) == [
            "2025-03-03",
            "2025-03-31",
        ]


def test_small_cells_and_periods_never_leak(staff_client, poll):
    # given weeks with small answers and a week of three votes in all
    votes(poll, MONDAY, Yes=9, No=2, Maybe=6)
    votes(poll, MONDAY + dt.timedelta(days=7), Yes=7, No=7)
    votes(poll, MONDAY + dt.timedelta(days=14), Yes=3)
    votes(poll, MONDAY + dt.timedelta(days=21), Yes=12, No=6, Maybe=1)
    truth = {
        "2025-03-03": [17, 9, 2, 6],
        "2025-03-10": [14, 7, 7, 0],
        "2025-03-17": [3, 3, 0, 0],
        "2025-03-24": [19, 12, 6, 1],
    }
    # when
    shown = trend_rows(page(staff_client, poll))
    # then every shown number is the truth, none is a group under k, and no period or
    # answer hides a sum under k that its shown total would give away
    fewer = f"fewer than {K}"
    for period, row in shown.items():
        for cell, real in zip(row, truth[period], strict=True):
            if cell != fewer:
                assert int(cell.split(" ")[0]) == real and not is_small(real, k=K)
    assert shown["2025-03-17"][0] == fewer  # three votes in the week
    cells = [list(zip(row[1:], truth[p][1:], strict=True)) for p, row in shown.items()]
    # A period whose votes are shown, each answer (its total is the split above), and
    # the periods' votes (the poll's total is shown).
    lines = [line for line, row in zip(cells, shown.values(), strict=True) if row[0] != fewer]
    lines += [list(column) for column in zip(*cells, strict=True)]
    lines.append([(row[0], truth[p][0]) for p, row in shown.items()])
    for line in lines:
        hidden = sum(real for cell, real in line if cell == fewer)
        assert not is_small(hidden, k=K), line


def test_the_api_gives_the_same_periods(staff_client, poll):
    votes(poll, MONDAY, Yes=6, No=5)
    votes(poll, MONDAY + dt.timedelta(days=7), Yes=2, No=9)
    url = reverse("api:survey_results", args=[poll.organisation.slug, poll.pk])
    body = staff_client.get(url, {"every": "week"}).json()["over_time"]
    shown = trend_rows(page(staff_client, poll))
    assert body["interval"] == "week"
    for period in body["periods"]:
        row = shown[period["start"]]
        assert row[0] == (f"fewer than {K}" if period["votes"] is None else str(period["votes"]))
        for cell, text in zip(period["cells"], row[1:], strict=True):
            assert text.startswith(
                f"fewer than {K}" if cell["count"] is None else str(cell["count"])
            )
    # a malformed interval is refused with the filters' 400
    assert staff_client.get(url, {"every": "fortnight"}).status_code == 400
    assert staff_client.get(url, {"every": "x" * 5000}).status_code == 400


def test_folded_and_live_votes_give_the_same_trend(organisation, poll):
    votes(poll, MONDAY, Yes=6, No=5, Maybe=1)
    votes(poll, MONDAY + dt.timedelta(days=8), Yes=4, No=9)
    rollups_fold_all()
    votes(poll, MONDAY + dt.timedelta(days=9), Maybe=5)  # past the watermark: the tail
    rolled = survey_results(organisation=organisation, survey=poll, every="week")
    register_results_reader(None)
    try:
        scanned = survey_results(organisation=organisation, survey=poll, every="week")
    finally:
        register_results_reader(results_counts_rollups)
    assert rolled.poll_trend == scanned.poll_trend
    assert [p.answers for p in rolled.poll_trend.periods] == [12, 18]


def test_another_organisations_poll_trend_is_not_found(
    staff_client, organisation, other_organisation
):
    foreign = SurveyFactory(organisation=other_organisation, kind=SurveyKind.POLL)
    url = reverse("staff:survey_results", args=[organisation.slug, foreign.pk])
    assert staff_client.get(url, {"every": "month"}).status_code == 404
    api = reverse("api:survey_results", args=[organisation.slug, foreign.pk])
    assert staff_client.get(api, {"every": "month"}).status_code == 404


def test_periods_start_on_mondays_and_firsts():
    assert period_start(dt.date(2025, 3, 9), "week") == dt.date(2025, 3, 3)
    assert period_start(dt.date(2025, 3, 9), "month") == dt.date(2025, 3, 1)
    # with no answers there are no periods (the page shows no trend)
    assert poll_trend(options=[(1, None, "Yes")], days=[], k=K).periods == []


def _touching(month: dt.date, weeks: dict) -> set:
    return {w for w in weeks if month in {w.replace(day=1), (w + dt.timedelta(6)).replace(day=1)}}


@pytest.mark.parametrize("seed", range(60))
def test_the_week_and_month_views_side_by_side_give_no_small_figure_away(seed):
    # given: a yes/no poll answered on random days over five months, some weeks quiet, and
    # none in a week across two months (which would make the subtractions inexact)
    rng = random.Random(seed)
    days = []
    start = dt.date(2025, 1, 1)
    for offset in range(150):
        day = start + dt.timedelta(days=offset)
        monday = day - dt.timedelta(days=day.weekday())
        if monday.month != (monday + dt.timedelta(days=6)).month or monday.year != 2025:
            continue
        if rng.random() < 0.2:
            yes, no = rng.randint(0, 4), rng.randint(0, 6)
            days += [(day, None, None, yes + no), (day, 1, None, yes), (day, 0, None, no)]
    options = [(1, None, "Yes"), (0, None, "No")]
    total = sum(n for _day, value, _choice, n in days if value is None)

    # when: an attacker reads both views
    weeks = {
        p.start: p.answers
        for p in poll_trend(options=options, days=days, k=K, interval="week").periods
    }
    months = {
        p.start: p.answers
        for p in poll_trend(options=options, days=days, k=K, interval="month").periods
    }

    # then: a shown month less the weeks shown in it, and the votes less the shown months
    # and the weeks shown in the hidden ones, are each no group under k
    hidden_months_weeks = 0
    for month, answers in months.items():
        shown_inside = sum(weeks[w] or 0 for w in _touching(month, weeks))
        if answers is None:
            hidden_months_weeks += shown_inside
        else:
            assert not is_small(answers - shown_inside, k=K), (month, answers - shown_inside)
    left = total - sum(n or 0 for n in months.values()) - hidden_months_weeks
    assert not is_small(left, k=K), left
