"""The CSV of approved physical rewards to ship. (Who may open each URL, and another
organisation's ids: tests/rewards/walks/redemptions.py, walked by tests/communities.)
"""

import csv
import io

import pytest
from django.utils import timezone

from communities.choices import MemberStatus
from communities.models import AuditEntry
from rewards.choices import RedemptionStatus, RewardKind
from tests.factories.communities import CommunityFactory, MemberFactory
from tests.factories.rewards import RewardFactory
from tests.rewards.staff_redemption_helpers import requested, shown, staff

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --- what to ship -----------------------------------------------------------------------------


def test_the_export_lists_approved_physical_items_with_addresses(
    staff_client, organisation, community
):
    # given
    bag = RewardFactory(
        organisation=organisation, community=community, name="Bag", kind=RewardKind.PHYSICAL
    )
    ship = requested(
        community,
        reward=bag,
        status=RedemptionStatus.APPROVED,
        decided_at=timezone.now(),
        member__name="Somchai",
        member__email="somchai@example.com",
        shipping_address="12 Rama IV\nBangkok",
    )
    requested(community, reward=bag)  # still waiting
    requested(community, reward=bag, status=RedemptionStatus.FULFILLED)  # sent already
    requested(community, reward__kind=RewardKind.PERK, status=RedemptionStatus.APPROVED)

    # when
    response = staff_client.get(staff("redemption_export", organisation))

    # then
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:5] == ["Redemption", "Member", "Email", "Shipping address", "Reward"]
    assert len(rows) == 1
    assert rows[0][:6] == [
        str(ship.pk),
        "Somchai",
        "somchai@example.com",
        "12 Rama IV\nBangkok",
        "Bag",
        community.name,
    ]
    assert rows[0][6] and rows[0][7]
    assert AuditEntry.objects.filter(organisation=organisation, action="redemption.export").exists()


def test_the_export_makes_a_formula_plain_text(staff_client, organisation, community):
    # given: a member whose name and address are spreadsheet formulas
    requested(
        community,
        reward__kind=RewardKind.PHYSICAL,
        reward__name="+SUM(1,2)",
        status=RedemptionStatus.APPROVED,
        member__name='=cmd|" /C calc"!A0',
        shipping_address='@HYPERLINK("http://x")',
    )

    # when
    _header, row = read_csv(staff_client.get(staff("redemption_export", organisation)))

    # then
    assert row[1] == '\'=cmd|" /C calc"!A0'
    assert row[3] == '\'@HYPERLINK("http://x")'
    assert row[4] == "'+SUM(1,2)"


def test_the_export_follows_the_queue_filters(staff_client, organisation, community):
    # given
    other = CommunityFactory(organisation=organisation)
    here = requested(community, reward__kind=RewardKind.PHYSICAL, status=RedemptionStatus.APPROVED)
    requested(other, reward__kind=RewardKind.PHYSICAL, status=RedemptionStatus.APPROVED)

    # when
    response = staff_client.get(
        staff("redemption_export", organisation), {"community": community.pk}
    )

    # then
    _header, *rows = read_csv(response)
    assert [row[0] for row in rows] == [str(here.pk)]


def test_the_export_leaves_out_an_erased_members_details(staff_client, organisation, community):
    # given
    member = MemberFactory(
        community=community,
        status=MemberStatus.ERASED,
        email="",
        name="",
        referral_code="",
        erased_at=timezone.now(),
    )
    requested(
        community,
        member=member,
        reward__kind=RewardKind.PHYSICAL,
        status=RedemptionStatus.APPROVED,
        shipping_address="left behind",
    )

    # when
    _header, row = read_csv(staff_client.get(staff("redemption_export", organisation)))

    # then
    assert row[1] == f"Erased member #{member.pk}" and row[2] == "" and row[3] == ""


def test_an_export_with_a_bad_filter_shows_the_error(staff_client, organisation):
    response = staff_client.get(staff("redemption_export", organisation), {"since": "soon"})
    assert response.status_code == 400
    assert "Enter a date like 2026-03-31." in shown(response)


def test_another_organisations_rows_never_reach_the_export(
    staff_client, organisation, other_organisation
):
    # given
    requested(
        CommunityFactory(organisation=other_organisation),
        reward__kind=RewardKind.PHYSICAL,
        status=RedemptionStatus.APPROVED,
        shipping_address="Their address",
    )

    # when
    _header, *rows = read_csv(staff_client.get(staff("redemption_export", organisation)))

    # then
    assert rows == []
