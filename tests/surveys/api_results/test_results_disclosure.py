"""Small groups never leak from a survey's results (page and API, which share one
`SurveyResults`): the issue's subtraction example as a regression test, and an attacker
who reads every filter and pair of filters and subtracts every shown part from every
shown total."""

from __future__ import annotations

import itertools
import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from communities.choices import Role
from surveys.choices import ChannelKind
from surveys.disclosure import leaks
from tests.factories.communities import LocationFactory, StaffRoleFactory
from tests.factories.surveys import ChannelFactory, ResponseFactory, SurveyFactory
from tests.insights.seed import LANGUAGES, K, seed

pytestmark = pytest.mark.django_db


def read(organisation, survey, **params) -> dict:
    client = APIClient()
    client.force_login(StaffRoleFactory(organisation=organisation, role=Role.ANALYST).user)
    url = reverse("api:survey_results", args=[organisation.slug, survey.pk])
    answer = client.get(url, params)
    assert answer.status_code == 200, answer.content
    return answer.json()


def subtractions(body: dict) -> list[tuple[str, list[int]]]:
    """Every line of the results with a visible total, and what it leaks."""
    total = body["responses"]
    found = []

    def check(name, line_total, cells):
        found.append((name, leaks(total=line_total, shown=cells, k=body["min_group_size"])))

    check("languages", total, [r["responses"] for r in body["by_language"]])
    check("channels", total, [r["responses"] for r in body["by_channel"]])
    check("store totals", total, [r["responses"] for r in body["by_store"]])
    for row in body["by_store"]:
        check(f"store {row['store']}", row["responses"], [c["responses"] for c in row["channels"]])
    for index, channel in enumerate(body["by_channel"]):
        cells = [row["channels"][index]["responses"] for row in body["by_store"]]
        check(f"channel {channel['channel']}", channel["responses"], cells)
    nps = body["nps"]
    if nps is not None:
        parts = [nps["promoters"], nps["passives"], nps["detractors"]]
        check("nps split", nps["answers"], parts)
    for question in body["questions"]:
        if question["type"] != "multi_choice":
            cells = [c["count"] for c in question["distribution"]]
            check(f"question {question['position']}", question["answers"], cells)
    return [(name, leaked) for name, leaked in found if leaked]


def responses_at(survey, location, kind, n) -> None:
    """n responses at a store through a channel of its own (None: the survey's public link,
    counted as a link)."""
    channel = kind and ChannelFactory(
        survey=survey,
        kind=kind,
        location=location,
        device_token=uuid.uuid4().hex if kind == ChannelKind.KIOSK else None,
    )
    for _ in range(n):
        ResponseFactory(survey=survey, channel=channel, location=location)


def test_no_subtraction_recovers_the_hidden_store_of_the_issue(organisation):
    # given: the issue's example, kiosk answers 12, 5 and 3 at three stores (k = 5)
    organisation.min_group_size = 5
    organisation.save(update_fields=["min_group_size"])
    survey = SurveyFactory(organisation=organisation)
    for name, n in (("Silom", 12), ("Siam", 5), ("Ari", 3)):
        responses_at(survey, LocationFactory(organisation=organisation, name=name), "kiosk", n)

    # when
    body = read(organisation, survey)

    # then: 20 − 12 gives 8, the hidden Siam and Ari together, never Ari's 3
    stores = {row["store"]: row["responses"] for row in body["by_store"]}
    assert body["responses"] == 20 and stores == {"Silom": 12, "Siam": None, "Ari": None}
    assert subtractions(body) == []


def test_a_store_with_four_kiosk_and_three_link_answers_shows_its_seven(organisation):
    # given
    organisation.min_group_size = 5
    organisation.save(update_fields=["min_group_size"])
    survey = SurveyFactory(organisation=organisation)
    siam = LocationFactory(organisation=organisation, name="Bangkok Siam")
    responses_at(survey, siam, "kiosk", 4)
    responses_at(survey, siam, None, 3)
    responses_at(survey, LocationFactory(organisation=organisation, name="Silom"), "kiosk", 9)
    responses_at(survey, LocationFactory(organisation=organisation, name="Ari"), "email", 6)

    # when
    body = read(organisation, survey)

    # then: one row for the store, with its total of 7; its 4 and 3 hidden
    (row,) = [row for row in body["by_store"] if row["store"] == "Bangkok Siam"]
    assert row["responses"] == 7 and not row["suppressed"]
    channels = {c["channel"]: c["responses"] for c in row["channels"]}
    assert channels == {"kiosk": None, "link": None, "email": 0}
    assert subtractions(body) == []


def test_no_filter_or_pair_of_filters_leaves_a_group_under_k_to_be_found(organisation, community):
    # given: the dashboard's seed: stores below and above k, three channels, four languages
    surveys, stores = seed(organisation, community)
    options = (
        [("channel", kind) for kind in ChannelKind.values]
        + [("location", store.pk) for store in stores.values()]
        + [("language", code) for code in LANGUAGES]
        + [("until", "2025-02-15"), ("since", "2025-02-16")]
    )
    views = (
        [()]
        + [(o,) for o in options]
        + [
            pair
            for pair in itertools.combinations(options, 2)
            if pair[0][0] != pair[1][0] and {pair[0][0], pair[1][0]} != {"since", "until"}
        ]
    )

    # when: the attacker reads every view of both surveys
    found = []
    for survey in surveys:
        for view in views:
            body = read(organisation, survey, **dict(view))
            if body["withheld"]:
                assert body["nps"] is None and body["by_store"] == []
                continue
            assert body["responses"] >= K
            found += [(survey.pk, view, name, leaked) for name, leaked in subtractions(body)]

    # then
    assert len(views) > 50
    assert found == []
