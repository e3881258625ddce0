"""The staff rewards overview: points issued, redeemed, expired and adjusted per month in the
organisation's time zone, the points members hold at each month's end, redemptions by
status and the top rewards — from a few aggregate queries, whatever the size of the ledger."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities.choices import Role
from rewards.choices import LedgerReason, RedemptionStatus
from rewards.demo import rewards_demo_seed
from rewards.models import LedgerEntry
from rewards.selectors import rewards_overview
from tests.factories.communities import (
    CommunityFactory,
    MemberFactory,
    OrganisationFactory,
    StaffRoleFactory,
)
from tests.factories.rewards import LedgerEntryFactory, RedemptionFactory, RewardFactory

pytestmark = pytest.mark.django_db

BANGKOK = ZoneInfo("Asia/Bangkok")  # UTC+7, no daylight saving
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def entry(member, points, reason, at):
    return LedgerEntryFactory(member=member, points=points, reason=reason, created_at=at)


def overview_url(organisation, **query):
    url = reverse("staff:rewards_overview", args=[organisation.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def analyst_client(organisation):
    role = StaffRoleFactory(organisation=organisation, role=Role.ANALYST)
    client = Client()
    client.force_login(role.user)
    return client


def month(figures, year, number):
    return next(m for m in figures.months if (m.month.year, m.month.month) == (year, number))


def test_months_are_counted_in_the_organisations_time_zone_with_a_running_liability():
    # given a member of a Bangkok organisation with a year of history
    organisation = OrganisationFactory(time_zone="Asia/Bangkok")
    member = MemberFactory(community__organisation=organisation)
    # 23:00 on 30 June 2025 in Bangkok: before the 12-month window, in the opening balance
    entry(member, 100, LedgerReason.JOINED, datetime(2025, 6, 30, 16, 0, tzinfo=UTC))
    # 00:30 on 1 July in Bangkok (still June in UTC): the window's first month
    entry(member, 50, LedgerReason.SURVEY_COMPLETED, datetime(2025, 6, 30, 17, 30, tzinfo=UTC))
    # 03:00 on 1 February in Bangkok (31 January in UTC)
    feb = datetime(2026, 1, 31, 20, 0, tzinfo=UTC)
    entry(member, 200, LedgerReason.SURVEY_COMPLETED, feb)
    entry(member, -120, LedgerReason.REDEMPTION_HOLD, feb + timedelta(hours=1))
    entry(member, 20, LedgerReason.REDEMPTION_RETURN, feb + timedelta(hours=2))
    march = datetime(2026, 3, 10, tzinfo=UTC)
    entry(member, -30, LedgerReason.EXPIRED, march)
    entry(member, 15, LedgerReason.ADJUSTMENT, march)
    entry(member, -5, LedgerReason.ADJUSTMENT, march)
    entry(member, 5, LedgerReason.POLL_VOTED, datetime(2026, 6, 1, tzinfo=UTC))
    # and an entry after "now" that the overview must not count
    entry(member, 999, LedgerReason.ADJUSTMENT, NOW + timedelta(days=1))

    # when the overview is read for mid-June 2026
    figures = rewards_overview(organisation=organisation, tz=BANGKOK, now=NOW)

    # then twelve months, July 2025 to June 2026, each counted in Bangkok time
    assert [(m.month.year, m.month.month) for m in figures.months][0] == (2025, 7)
    assert [(m.month.year, m.month.month) for m in figures.months][-1] == (2026, 6)
    assert len(figures.months) == 12
    assert figures.opening_liability == 100
    assert (month(figures, 2025, 7).issued, month(figures, 2025, 7).liability) == (50, 150)
    assert month(figures, 2026, 1).issued == 0  # 31 January UTC is February in Bangkok
    february = month(figures, 2026, 2)
    assert (february.issued, february.redeemed, february.liability) == (200, 100, 250)
    march_figures = month(figures, 2026, 3)
    assert (march_figures.expired, march_figures.adjusted, march_figures.liability) == (30, 10, 230)
    assert (month(figures, 2026, 6).issued, month(figures, 2026, 6).liability) == (5, 235)
    # and the headline totals are the months' sums, the liability the last month's end
    assert (figures.issued, figures.redeemed, figures.expired, figures.adjusted) == (
        255,
        100,
        30,
        10,
    )
    assert figures.liability == 235


def test_the_same_entries_fall_in_other_months_in_another_time_zone():
    # given an entry at 23:30 UTC on the last day of May
    organisation = OrganisationFactory()
    member = MemberFactory(community__organisation=organisation)
    entry(member, 40, LedgerReason.SURVEY_COMPLETED, datetime(2026, 5, 31, 23, 30, tzinfo=UTC))
    # then it is May in UTC and New York, June in Bangkok
    utc = rewards_overview(organisation=organisation, tz=ZoneInfo("UTC"), now=NOW)
    new_york = rewards_overview(organisation=organisation, tz=ZoneInfo("America/New_York"), now=NOW)
    bangkok = rewards_overview(organisation=organisation, tz=BANGKOK, now=NOW)
    assert (month(utc, 2026, 5).issued, month(utc, 2026, 6).issued) == (40, 0)
    assert (month(new_york, 2026, 5).issued, month(new_york, 2026, 6).issued) == (40, 0)
    assert (month(bangkok, 2026, 5).issued, month(bangkok, 2026, 6).issued) == (0, 40)


def test_redemptions_by_status_and_top_rewards_leave_refused_requests_out():
    # given redemptions of two rewards in every status
    organisation = OrganisationFactory()
    community = CommunityFactory(organisation=organisation)
    coffee = RewardFactory(organisation=organisation, community=community, name="Free coffee")
    coffee.translations = {"th": {"name": "กาแฟฟรี"}}
    coffee.save()
    mug = RewardFactory(organisation=organisation, community=community, name="Mug", cost=300)
    member = MemberFactory(community=community)
    for status in (
        RedemptionStatus.FULFILLED,
        RedemptionStatus.APPROVED,
        RedemptionStatus.REQUESTED,
    ):
        RedemptionFactory(member=member, reward=coffee, status=status)
    RedemptionFactory(member=member, reward=mug, status=RedemptionStatus.FULFILLED)
    for status in (RedemptionStatus.REJECTED, RedemptionStatus.CANCELLED):
        RedemptionFactory(member=member, reward=mug, status=status)

    # when the overview is read in Thai
    figures = rewards_overview(
        organisation=organisation, tz=ZoneInfo("UTC"), now=timezone.now(), language="th"
    )

    # then every status is listed with its count and points
    counts = {s.status: (s.count, s.points) for s in figures.statuses}
    assert counts[RedemptionStatus.REQUESTED] == (1, 100)
    assert counts[RedemptionStatus.FULFILLED] == (2, 400)
    assert counts[RedemptionStatus.REJECTED] == (1, 300)
    # and the top rewards count only what was not refused or withdrawn, named in Thai
    assert [(r.name, r.count, r.points) for r in figures.top_rewards] == [
        ("กาแฟฟรี", 3, 300),
        ("Mug", 1, 300),
    ]


def test_the_page_shows_the_table_chart_and_totals(analyst_client, organisation):
    # given this month's entries of the organisation's member
    member = MemberFactory(community__organisation=organisation)
    now = timezone.now()
    entry(member, 500, LedgerReason.SURVEY_COMPLETED, now - timedelta(minutes=5))
    entry(member, -200, LedgerReason.REDEMPTION_HOLD, now - timedelta(minutes=4))
    entry(member, -50, LedgerReason.EXPIRED, now - timedelta(minutes=3))

    # when an analyst opens the overview
    page = analyst_client.get(overview_url(organisation))

    # then the totals, an accessible chart and a table with the same numbers are there
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'id="total-issued">500<', html)
    assert re.search(r'id="total-redeemed">200<', html)
    assert re.search(r'id="total-expired">50<', html)
    assert re.search(r'id="total-liability">250<', html)
    assert 'role="img" aria-labelledby="rewards-chart-title rewards-chart-desc"' in html
    assert '<title id="rewards-chart-title">' in html and '<desc id="rewards-chart-desc">' in html
    assert html.count("<rect x=") >= 12 * 3  # three bars a month
    assert "<polyline" in html and "<script" not in html.split("<svg", 1)[1].split("</svg>")[0]
    table = html.split('id="months-table"', 1)[1].split("</table>", 1)[0]
    assert "<caption" in table and 'scope="col"' in table and 'scope="row"' in table
    assert table.count("<tr") == 1 + 12 + 1  # head, twelve months, totals
    this_month = table.split("</tr>")[-3]  # the last month's row, before the totals
    assert [c for c in re.findall(r"<td>([^<]*)</td>", this_month)] == [
        "500",
        "200",
        "50",
        "0",
        "250",
    ]


def test_the_page_reads_right_to_left_in_hebrew_with_the_chart_left_to_right(
    analyst_client, organisation
):
    page = analyst_client.get(overview_url(organisation), HTTP_ACCEPT_LANGUAGE="he")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'dir="rtl"' in html
    assert '<figure class="mb-3" dir="ltr">' in html


def test_an_empty_organisation_renders_zeros_and_says_so(analyst_client, organisation):
    page = analyst_client.get(overview_url(organisation))
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'id="total-liability">0<', html)
    assert 'role="status"' in html
    assert "Nothing redeemed yet." in html


def test_the_community_filter_shows_one_communitys_points(analyst_client, organisation):
    # given members of two communities of the organisation
    cafes = CommunityFactory(organisation=organisation, name="Cafés")
    bakeries = CommunityFactory(organisation=organisation, name="Bakeries")
    now = timezone.now() - timedelta(minutes=1)
    entry(MemberFactory(community=cafes), 70, LedgerReason.SURVEY_COMPLETED, now)
    entry(MemberFactory(community=bakeries), 30, LedgerReason.SURVEY_COMPLETED, now)

    # when the overview is filtered to one, or shows all
    one = analyst_client.get(overview_url(organisation, community=cafes.pk)).content.decode()
    every = analyst_client.get(overview_url(organisation)).content.decode()

    # then each counts what it should, and the filter says which is shown
    assert re.search(r'id="total-issued">70<', one)
    assert f'<option value="{cafes.pk}" selected>' in one
    assert re.search(r'id="total-issued">100<', every)


def test_another_organisations_community_answers_404(analyst_client, organisation):
    # given a community of an organisation the analyst has no role in, with points
    theirs = CommunityFactory(organisation=OrganisationFactory())
    entry(MemberFactory(community=theirs), 70, LedgerReason.SURVEY_COMPLETED, timezone.now())
    # when its id is put in the filter, then the page is not found (nothing is revealed)
    page = analyst_client.get(overview_url(organisation, community=theirs.pk))
    assert page.status_code == 404


@pytest.mark.parametrize("value", ["abc", "-3", "0", "9" * 30, "1.5"])
def test_a_malformed_community_says_so_and_shows_the_whole_organisation(
    analyst_client, organisation, value
):
    member = MemberFactory(community__organisation=organisation)
    entry(member, 40, LedgerReason.SURVEY_COMPLETED, timezone.now() - timedelta(minutes=1))
    page = analyst_client.get(overview_url(organisation, community=value))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Choose a community from the list." in html and 'aria-invalid="true"' in html
    assert re.search(r'id="total-issued">40<', html)


def test_an_agent_may_not_read_the_overview(organisation):
    role = StaffRoleFactory(organisation=organisation, role=Role.AGENT)
    client = Client()
    client.force_login(role.user)
    assert client.get(overview_url(organisation)).status_code == 403


def _history(organisation, community, *, members, rewards):
    now = timezone.now()
    for i in range(members):
        member = MemberFactory(community=community)
        for months_ago in range(0, 14, 2):
            at = now - timedelta(days=30 * months_ago + 1)
            entry(member, 100 + i, LedgerReason.SURVEY_COMPLETED, at)
            entry(member, -10, LedgerReason.EXPIRED, at + timedelta(minutes=1))
        for _ in range(rewards):
            reward = RewardFactory(organisation=organisation, community=community)
            RedemptionFactory(member=member, reward=reward, status=RedemptionStatus.FULFILLED)


def test_the_query_count_does_not_grow_with_the_ledger(analyst_client, organisation):
    # given a small history, the page's queries counted
    community = CommunityFactory(organisation=organisation)
    _history(organisation, community, members=1, rewards=1)
    url = overview_url(organisation, community=community.pk)
    analyst_client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert analyst_client.get(url).status_code == 200
    # when the history grows tenfold, in members, months and rewards
    _history(organisation, community, members=10, rewards=3)
    with CaptureQueriesContext(connection) as large:
        assert analyst_client.get(url).status_code == 200
    # then the page runs the same few queries
    assert len(large) == len(small)
    assert len(small) <= 10


def test_the_demo_rewards_fill_the_overview_and_seed_again_adds_nothing(organisation):
    # given the demo's community with members who joined over the past year
    community = CommunityFactory(organisation=organisation)
    now = timezone.now()
    members = [
        MemberFactory(community=community, joined_at=now - timedelta(days=30 * i + 5))
        for i in range(12)
    ]
    owner = StaffRoleFactory(organisation=organisation, role=Role.OWNER).user

    # when the demo's rewards are seeded twice
    first = rewards_demo_seed(
        organisation=organisation, community=community, members=members, now=now, actor=owner
    )
    second = rewards_demo_seed(
        organisation=organisation, community=community, members=members, now=now, actor=owner
    )

    # then the catalogue, the history and the redemptions are there once
    assert first == second and first["rewards"] == 4 and first["redemptions"] >= 8
    figures = rewards_overview(organisation=organisation, tz=ZoneInfo("UTC"), now=timezone.now())
    statuses = {s.status for s in figures.statuses if s.count}
    assert statuses == set(RedemptionStatus.values)
    assert figures.issued > 0 and figures.redeemed > 0 and figures.liability > 0
    # and nobody's points went below zero
    balances = (
        LedgerEntry.objects.filter(member__community=community)
        .values("member_id")
        .annotate(total=Sum("points"))
    )
    assert all(row["total"] >= 0 for row in balances)
