"""An attacker's view of the two pages that list responses one by one (the responses behind
a figure, and the text answers): every filter and every pair of filters they offer, and in
each view every count one could take by counting rows — the rows listed, the rows of each
store (and channel) named, and the rows listed without a place. None may be a group of
fewer than k responses.

Like the dashboard's attacker test, this checks every single view; differencing the same
group across two views is not closed (surveys/disclosure.py says so)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest

from insights.drill.filters import ResponseFilters
from insights.drill.selectors import place_of, responses_behind
from insights.text.selectors import TextFilters, text_answers
from surveys.choices import ChannelKind
from surveys.disclosure import is_small
from tests.factories.communities import SegmentFactory
from tests.factories.insights_text import DAY, K, text_seed

pytestmark = pytest.mark.django_db

BASE = ResponseFilters(start=DAY, end=DAY + dt.timedelta(days=13))


def options(seeded, segment) -> list[tuple[str, object]]:
    return (
        [("survey", seeded["survey"].pk)]
        + [("channel", kind) for kind in ChannelKind.values]
        + [("location", store.pk) for store in seeded["stores"].values()]
        + [("language", code) for code in ("en", "th", "he", "ja")]
        + [("band", band) for band in ("detractor", "passive", "promoter")]
        + [("stars", n) for n in range(1, 6)]
        + [("csat", band) for band in ("satisfied", "unsatisfied")]
        + [("segment", segment.pk)]
        + [("end", DAY + dt.timedelta(days=3)), ("start", DAY + dt.timedelta(days=10))]
    )


def small_counts(counts: Counter) -> list:
    """Every count an attacker reads off one view that is a group under k."""
    return [(key, n) for key, n in counts.items() if is_small(n, k=K)]


def test_no_filter_or_pair_of_filters_lists_a_group_under_k(organisation, community):
    # given
    seeded = text_seed(organisation, community)
    segment = SegmentFactory(community=community, name="Active")
    choices = options(seeded, segment)
    views = [()] + [(o,) for o in choices] + list(itertools.combinations(choices, 2))
    found = []
    listed_views = 0

    for view in views:
        filters = BASE.but(**dict(view))
        # when: the responses behind a figure
        result = responses_behind(organisation=organisation, filters=filters)
        if result.count:
            listed_views += 1
            places = Counter(
                place_of(r) if place_of(r) not in result.hidden_places else "hidden"
                for r in result.responses
            )
            places["listed"] = result.count
            found += [(view, "drill", leak) for leak in small_counts(places)]
        # and the text answers, with each sentiment too
        for sentiment in (None, "negative", "neutral", "positive"):
            text_filters = TextFilters(
                responses=filters.but(stars=None, csat=None, channel=None, segment=None),
                sentiment=sentiment,
            )
            answers = text_answers(
                organisation=organisation, filters=text_filters, with_terms=False
            )
            if not answers.count:
                continue
            stores = Counter(
                a.response.location_id
                if a.response.location_id not in answers.hidden_locations
                else "hidden"
                for a in answers.answers
            )
            stores["listed"] = answers.count
            found += [(view, sentiment, "text", leak) for leak in small_counts(stores)]

    # then: many views list responses, and none shows a group under k
    assert listed_views > 20
    assert found == []
