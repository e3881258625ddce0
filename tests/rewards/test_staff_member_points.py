"""A member's points on the staff side: the whole ledger explained, the balance, and the
adjustment owners and admins make with a reason (once, however often the form is sent).
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.choices import MemberStatus, Role
from communities.models import AuditEntry
from rewards.choices import BadgeKind, LedgerReason
from rewards.models import LedgerEntry
from rewards.selectors import member_balance
from tests.factories.communities import MemberFactory, StaffRoleFactory, UserFactory
from tests.factories.rewards import (
    LedgerEntryFactory,
    MemberBadgeFactory,
    MemberStandingFactory,
    RedemptionFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

TOKEN = "0123456789abcdef0123456789abcdef"


def points_url(organisation, member):
    return reverse("staff:member_points", args=[organisation.slug, member.pk])


def shown(response) -> str:
    return response.content.decode()


def adjust(client, organisation, member, **data):
    return client.post(points_url(organisation, member), {"token": TOKEN, **data}, follow=False)


@pytest.fixture
def member(community):
    member = MemberFactory(community=community, name="Kanya")
    LedgerEntryFactory(member=member, points=100, reason=LedgerReason.JOINED)
    return member


# --- the ledger -------------------------------------------------------------------------------


def test_every_line_is_explained_with_the_balance(staff_client, organisation, community):
    # given: a welcome award, a survey, a redemption and a staff adjustment
    member = MemberFactory(community=community)
    redemption = RedemptionFactory(member=member, reward__name="Tote bag")
    LedgerEntryFactory(member=member, points=100, reason=LedgerReason.JOINED)
    LedgerEntryFactory(
        member=member,
        points=30,
        reason=LedgerReason.SURVEY_COMPLETED,
        detail={"title": "Breakfast survey"},
    )
    LedgerEntryFactory(
        member=member,
        points=-50,
        reason=LedgerReason.REDEMPTION_HOLD,
        source=f"rewards.redemption:{redemption.pk}",
        detail={"title": "Tote bag", "reward": redemption.reward_id},
    )
    LedgerEntryFactory(
        member=member,
        points=5,
        reason=LedgerReason.ADJUSTMENT,
        detail={"note": "Sorry for the late delivery"},
        created_by=UserFactory(name="Ploy Admin"),
    )

    # when
    body = shown(staff_client.get(points_url(organisation, member)))

    # then
    assert re.search(r'id="points-balance">\s*85\s*<', body)
    for text in (
        "Welcome points",
        "Survey completed",
        "Breakfast survey",
        "Tote bag",
        "Sorry for the late delivery",
        "Ploy Admin",
        "+30",
        "-50",
    ):
        assert text in body, text
    assert reverse("staff:redemption_detail", args=[organisation.slug, redemption.pk]) in body


def test_a_long_ledger_is_paged_and_the_page_costs_the_same(
    staff_client, organisation, member, django_assert_max_num_queries
):
    # given
    for _ in range(60):
        LedgerEntryFactory(member=member, points=1, created_by=UserFactory())

    # when
    with django_assert_max_num_queries(12):
        first = staff_client.get(points_url(organisation, member))
    second = staff_client.get(points_url(organisation, member), {"page": 2})

    # then
    assert "?page=2" in shown(first)
    assert shown(first).count("<tr>") - 1 == 50
    assert shown(second).count("<tr>") - 1 == 11


def test_an_analyst_reads_the_ledger_without_the_form_and_cannot_adjust(
    client, organisation, member
):
    # given
    client.force_login(StaffRoleFactory(organisation=organisation, role=Role.ANALYST).user)

    # when
    page = client.get(points_url(organisation, member))
    response = adjust(client, organisation, member, points="50", reason="Bonus")

    # then
    assert page.status_code == 200 and 'name="points"' not in shown(page)
    assert response.status_code == 403
    assert member_balance(member=member) == 100


def test_the_member_page_links_to_the_points_page(staff_client, organisation, member):
    page = staff_client.get(reverse("staff:member_detail", args=[organisation.slug, member.pk]))
    assert points_url(organisation, member) in shown(page)


def test_the_member_page_shows_their_tier_and_badges_in_the_staff_readers_language(
    staff_client, organisation, member
):
    # given: a member in the Gold tier with their first-survey badge, as the task computed
    tier = TierFactory(community=member.community, names={"en": "Gold", "ja": "ゴールド"})
    MemberStandingFactory(member=member, tier=tier, points_counted=900)
    MemberBadgeFactory(member=member, kind=BadgeKind.FIRST_SURVEY)
    url = reverse("staff:member_detail", args=[organisation.slug, member.pk])

    # when
    english, japanese = staff_client.get(url), staff_client.get(url + "?lang=ja")

    # then
    assert re.search(r'id="rewards-tier">Gold<', english.content.decode())
    assert re.search(r'id="rewards-badges">First survey<', english.content.decode())
    assert re.search(r'id="rewards-tier">ゴールド<', japanese.content.decode())


# --- adjusting --------------------------------------------------------------------------------


def test_a_credit_with_a_reason_is_added_and_logged(staff_client, staff_user, organisation, member):
    # when
    response = adjust(staff_client, organisation, member, points="50", reason="Store visit bonus")

    # then
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(member=member, reason=LedgerReason.ADJUSTMENT)
    assert entry.points == 50 and entry.created_by == staff_user
    assert entry.detail["note"] == "Store visit bonus"
    assert member_balance(member=member) == 150
    logged = AuditEntry.objects.get(organisation=organisation, action="points.adjust")
    assert logged.target_id == str(member.pk) and logged.target_label == f"member #{member.pk}"
    assert logged.changes == {"points": [100, 150], "reason": [None, "Store visit bonus"]}
    assert "Added 50 points." in shown(staff_client.get(response["Location"]))


def test_a_debit_takes_points_away(staff_client, organisation, member):
    # when
    response = adjust(staff_client, organisation, member, points="-30", reason="Duplicate award")

    # then
    assert response.status_code == 302
    assert member_balance(member=member) == 70
    assert "Took away 30 points." in shown(staff_client.get(response["Location"]))


def test_the_same_form_sent_twice_adjusts_once(staff_client, organisation, member):
    # when: a double click sends the same token twice
    adjust(staff_client, organisation, member, points="20", reason="Bonus")
    again = adjust(staff_client, organisation, member, points="20", reason="Bonus")

    # then
    assert again.status_code == 302
    assert member_balance(member=member) == 120
    assert AuditEntry.objects.filter(action="points.adjust").count() == 1
    assert "already made" in shown(staff_client.get(again["Location"]))


def test_each_fresh_form_carries_a_new_token(staff_client, organisation, member):
    first = shown(staff_client.get(points_url(organisation, member)))
    second = shown(staff_client.get(points_url(organisation, member)))
    tokens = [
        re.search(r'name="token" value="([0-9a-f]{32})"', b).group(1) for b in (first, second)
    ]
    assert tokens[0] != tokens[1]


def test_a_debit_below_zero_is_refused_on_the_form_and_nothing_is_lost(
    staff_client, organisation, member
):
    # when
    response = adjust(staff_client, organisation, member, points="-150", reason="Clawback")

    # then
    body = shown(response)
    assert response.status_code == 400
    assert "below zero: the member has 100 points" in body
    assert 'value="-150"' in body and "Clawback" in body and TOKEN in body
    assert member_balance(member=member) == 100
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"points": "50", "reason": ""}, "Say why: the member sees this reason."),
        ({"points": "50", "reason": "   "}, "Say why: the member sees this reason."),
        ({"points": "50", "reason": "x" * 501}, "at most 500 characters"),
        ({"points": "ten", "reason": "Bonus"}, "Enter a whole number"),
        ({"points": "1.5", "reason": "Bonus"}, "Enter a whole number"),
        ({"points": "", "reason": "Bonus"}, "Enter how many points"),
        ({"points": "0", "reason": "Bonus"}, "must add or take away points"),
        ({"points": "10000001", "reason": "Bonus"}, "at most 10000000 points"),
        ({"points": "-10000001", "reason": "Bonus"}, "at most 10000000 points"),
        ({"points": "9" * 40, "reason": "Bonus"}, "at most 10000000 points"),
        ({"points": "5", "reason": "Bonus\x00"}, "Null characters are not allowed."),
    ],
)
def test_bad_input_is_refused_on_the_form_and_nothing_is_written(
    staff_client, organisation, member, data, error
):
    # when
    response = adjust(staff_client, organisation, member, **data)

    # then
    assert response.status_code == 400
    assert error in shown(response)
    assert member_balance(member=member) == 100
    assert not LedgerEntry.objects.filter(reason=LedgerReason.ADJUSTMENT).exists()


@pytest.mark.parametrize("token", ["", "short", "Z" * 32, "../" * 11])
def test_a_missing_or_mangled_token_is_refused_with_a_fresh_one_to_send_again(
    staff_client, organisation, member, token
):
    # when
    response = staff_client.post(
        points_url(organisation, member), {"points": "5", "reason": "Bonus", "token": token}
    )

    # then
    body = shown(response)
    assert response.status_code == 400
    assert "This form has expired" in body
    assert re.search(r'name="token" value="[0-9a-f]{32}"', body)
    assert 'value="5"' in body and "Bonus" in body
    assert member_balance(member=member) == 100


def test_a_token_used_for_one_member_does_not_adjust_another(
    staff_client, organisation, community, member
):
    # given: the same token already used for another member
    other = MemberFactory(community=community)
    adjust(staff_client, organisation, other, points="10", reason="Bonus")

    # when
    adjust(staff_client, organisation, member, points="10", reason="Bonus")

    # then
    assert member_balance(member=member) == 110 and member_balance(member=other) == 10


def test_an_erased_members_ledger_is_shown_as_the_marker_and_not_adjusted(
    staff_client, organisation, community
):
    # given
    erased = MemberFactory(
        community=community,
        status=MemberStatus.ERASED,
        email="",
        name="",
        referral_code="",
        erased_at=timezone.now(),
    )
    LedgerEntryFactory(member=erased, points=40)

    # when
    page = staff_client.get(points_url(organisation, erased))
    response = adjust(staff_client, organisation, erased, points="10", reason="Bonus")

    # then
    assert page.status_code == 200
    assert f"Erased member #{erased.pk}" in shown(page) and 'name="points"' not in shown(page)
    assert response.status_code == 400 and "was erased" in shown(response)
    assert member_balance(member=erased) == 40


def test_another_organisations_member_answers_404(staff_client, organisation, other_organisation):
    theirs = MemberFactory(community__organisation=other_organisation)
    assert staff_client.get(points_url(organisation, theirs)).status_code == 404
    response = adjust(staff_client, organisation, theirs, points="10", reason="Bonus")
    assert response.status_code == 404
    assert member_balance(member=theirs) == 0
