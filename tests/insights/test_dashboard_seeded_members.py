"""The dashboard's breakdowns and filters by who answered (segment, member lifecycle
status, tier), against figures computed here from the seed; anonymous responses belong to
no segment; small groups are withheld; the filters stay in the URL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.choices import MemberStatus
from insights.rollups.fold import rollups_fold_all
from surveys.choices import QuestionType
from tests.factories.communities import MemberFactory, SegmentFactory
from tests.factories.rewards import MemberStandingFactory, TierFactory
from tests.factories.surveys import AnswerFactory, ResponseFactory
from tests.insights.seed import END, START, K, nps, seed, seed_rows

pytestmark = pytest.mark.django_db

# (status, tier name or None) per member; each member answers once.
MEMBERS = [
    *[(MemberStatus.ACTIVE, "Gold")] * 6,
    *[(MemberStatus.ACTIVE, None)] * 3,
    *[(MemberStatus.LAPSED, "Silver")] * 5,
]


def member_rows() -> list[dict]:
    return [
        {"status": status, "tier": tier, "nps": (i * 3) % 11, "day": START + dt.timedelta(i * 4)}
        for i, (status, tier) in enumerate(MEMBERS)
    ]


@pytest.fixture(params=["live", "folded"])
def seeded(request, organisation, community):
    surveys, _stores = seed(organisation, community)
    tiers = {
        name: TierFactory(community=community, names={"en": name}, threshold=threshold)
        for name, threshold in (("Silver", 100), ("Gold", 500))
    }
    segments = {
        "active": SegmentFactory(community=community, name="Active", filter={"status": ["active"]}),
        "lapsed": SegmentFactory(community=community, name="Lapsed", filter={"status": ["lapsed"]}),
    }
    nps_question = surveys[0].questions.get(type=QuestionType.NPS)
    for row in member_rows():
        member = MemberFactory(community=community, status=row["status"])
        if row["tier"]:
            MemberStandingFactory(member=member, tier=tiers[row["tier"]])
        at = timezone.make_aware(dt.datetime.combine(row["day"], dt.time(12)))
        response = ResponseFactory(
            survey=surveys[0], member=member, submitted_at=at, submitted_on=row["day"]
        )
        AnswerFactory(response=response, question=nps_question, number=row["nps"])
    if request.param == "folded":
        rollups_fold_all()
    return tiers, segments


def board_for(client, organisation, **params):
    query = {"start": START.isoformat(), "end": END.isoformat(), **params}
    page = client.get(reverse("staff:insights_dashboard", args=[organisation.slug]), query)
    assert page.status_code == 200
    return page.context["board"], page.content.decode()


def test_the_breakdowns_by_status_tier_and_segment_match_the_seed(
    staff_client, organisation, seeded
):
    # given
    tiers, segments = seeded
    members = member_rows()
    anonymous = len(seed_rows())

    # when
    board, html = board_for(staff_client, organisation, members="on")

    # then: status
    status = {cell.key: cell for cell in board.by_status}
    active = [r for r in members if r["status"] == MemberStatus.ACTIVE]
    lapsed = [r for r in members if r["status"] == MemberStatus.LAPSED]
    assert status["active"].responses == len(active) and status["active"].nps == nps(active)
    assert status["lapsed"].responses == len(lapsed) and status["lapsed"].nps == nps(lapsed)
    assert status[""].responses == anonymous  # never linked to a member
    # tier
    tier = {cell.key: cell for cell in board.by_tier}
    gold = [r for r in members if r["tier"] == "Gold"]
    assert tier[tiers["Gold"].pk].responses == len(gold)
    assert tier[tiers["Gold"].pk].nps == nps(gold)
    assert tier[tiers["Silver"].pk].responses == 5
    assert tier[None].responses == anonymous + 3
    # segment: anonymous responses are in none
    segment = {cell.key: cell for cell in board.by_segment}
    assert segment[segments["active"].pk].responses == len(active)
    assert segment[segments["lapsed"].pk].responses == len(lapsed)
    assert 'id="segment-table"' in html and 'id="tier-table"' in html


def test_without_asking_the_member_breakdowns_are_not_computed(staff_client, organisation, seeded):
    board, html = board_for(staff_client, organisation)

    assert board.by_status == board.by_tier == board.by_segment == []
    assert 'id="segment-table"' not in html


@pytest.mark.parametrize(
    ("param", "pick"),
    [
        ("status", lambda r, tiers, segments: r["status"] == MemberStatus.ACTIVE),
        ("tier", lambda r, tiers, segments: r["tier"] == "Gold"),
        ("segment", lambda r, tiers, segments: r["status"] == MemberStatus.ACTIVE),
    ],
)
def test_a_filter_by_who_answered_gives_that_groups_figures(
    staff_client, organisation, seeded, param, pick
):
    # given
    tiers, segments = seeded
    value = {
        "status": "active",
        "tier": tiers["Gold"].pk,
        "segment": segments["active"].pk,
    }[param]
    expected = [r for r in member_rows() if pick(r, tiers, segments)]

    # when
    board, html = board_for(staff_client, organisation, **{param: value})

    # then
    assert board.headline.responses == len(expected)
    assert board.headline.nps == nps(expected)
    assert getattr(board.filters, param) == value


def test_a_filter_by_who_answered_narrowing_below_k_shows_nothing(
    staff_client, organisation, seeded
):
    tiers, _segments = seeded

    board, html = board_for(staff_client, organisation, status="active", tier=tiers["Silver"].pk)

    assert board.withheld and board.headline is None
    assert 'id="insights-withheld"' in html


def test_a_segment_of_another_organisation_is_refused(staff_client, organisation, seeded):
    # given
    foreign = SegmentFactory()

    # when
    board, _html = board_for(staff_client, organisation, segment=foreign.pk)

    # then: the form refuses it and the page falls back to the unfiltered last 90 days
    assert board.filters.segment is None


@pytest.mark.parametrize("bad", ["abc", "99999999", "-1", "x" * 5000])
def test_malformed_member_filters_fall_back_to_no_filter(staff_client, organisation, seeded, bad):
    board, _html = board_for(staff_client, organisation, tier=bad, status=bad[:40])

    assert board.filters.tier is None and board.filters.status is None


assert K == 5  # the seed's k, which the group sizes above are chosen around
assert END > START
