"""The staff page of a community's earning rules, expiry and tiers: analysts read it,
owners and admins change it; every bad input is refused next to its field with nothing
written; every change is in the audit log; another organisation's ids are 404."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from communities.choices import Role
from communities.models import AuditEntry
from rewards.choices import TierBasis
from rewards.models import RewardsPolicy, Tier
from rewards.services import rewards_policy_update, tier_create
from tests.factories.communities import CommunityFactory, StaffRoleFactory, UserFactory
from tests.factories.rewards import RewardsPolicyFactory, TierFactory

pytestmark = pytest.mark.django_db

GOOD = {
    "join_points": "50",
    "profile_points": "20",
    "referral_points": "30",
    "poll_points": "3",
    "expiry": "inactivity",
    "expiry_months": "12",
    "warning_days": "30",
    "last_chance_days": "7",
    "tier_basis": TierBasis.WINDOW,
    "tier_window_months": "12",
}


def policy_url(organisation, community) -> str:
    return reverse("staff:rewards_policy", args=[organisation.slug, community.pk])


def tier_new_url(organisation, community) -> str:
    return reverse("staff:tier_create", args=[organisation.slug, community.pk])


def tier_url(organisation, tier, action="edit") -> str:
    return reverse(f"staff:tier_{action}", args=[organisation.slug, tier.pk])


def tier_data(**overrides) -> dict:
    return {"name_en": "Gold", "name_th": "ทอง", "threshold": "1000", "discount_percent": "10"} | (
        overrides
    )


def client_as(client, organisation, role):
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    return client


# --- the rules -----------------------------------------------------------------------------


def test_an_admin_sets_the_rules_and_the_change_is_audited(staff_client, organisation, community):
    # when
    page = staff_client.post(policy_url(organisation, community), GOOD)
    # then: saved, and back on the page
    assert page.status_code == 302 and page.url == policy_url(organisation, community)
    policy = RewardsPolicy.objects.get(community=community)
    assert (policy.join_points, policy.profile_points, policy.referral_points) == (50, 20, 30)
    assert (policy.poll_points, policy.expiry_months) == (3, 12)
    assert (policy.warning_days, policy.last_chance_days) == (30, 7)
    assert (policy.tier_basis, policy.tier_window_months) == (TierBasis.WINDOW, 12)
    assert policy.organisation == organisation
    # and the audit log holds each change with its value before and after
    entry = AuditEntry.objects.get(action="rewards_policy.update")
    assert entry.organisation == organisation and entry.target_id == str(policy.pk)
    assert entry.changes["join_points"] == [0, 50]
    assert entry.changes["expiry_months"] == [None, 12]
    assert entry.changes["tier_basis"] == [TierBasis.LIFETIME, TierBasis.WINDOW]


def test_saving_unchanged_rules_leaves_no_audit_entry(staff_client, organisation, community):
    staff_client.post(policy_url(organisation, community), GOOD)
    staff_client.post(policy_url(organisation, community), GOOD)
    assert AuditEntry.objects.filter(action="rewards_policy.update").count() == 1


def test_never_expiring_clears_the_months(staff_client, organisation, community):
    RewardsPolicyFactory(community=community, expiry_months=6)
    data = {**GOOD, "expiry": "never", "expiry_months": ""}
    assert staff_client.post(policy_url(organisation, community), data).status_code == 302
    assert RewardsPolicy.objects.get(community=community).expiry_months is None


def test_the_page_shows_the_rules_and_the_tiers(staff_client, organisation, community):
    RewardsPolicyFactory(community=community, join_points=77)
    TierFactory(community=community, names={"en": "Silver"}, threshold=500, discount_percent=5)
    page = staff_client.get(policy_url(organisation, community))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="77"' in html and "Silver" in html
    assert tier_new_url(organisation, community) in html


def test_an_analyst_reads_the_rules_but_cannot_save_them(client, organisation, community):
    analyst = client_as(client, organisation, Role.ANALYST)
    page = analyst.get(policy_url(organisation, community))
    html = page.content.decode()
    assert page.status_code == 200
    assert "disabled" in html and "Save the rules" not in html
    assert analyst.post(policy_url(organisation, community), GOOD).status_code == 403
    assert not RewardsPolicy.objects.exists()


BAD_RULES = [
    ("join_points", {"join_points": "-1"}),
    ("join_points", {"join_points": "ten"}),
    ("profile_points", {"profile_points": "1.5"}),
    ("referral_points", {"referral_points": "99999999999999999999"}),
    ("poll_points", {"poll_points": ""}),
    ("expiry_months", {"expiry_months": ""}),
    ("expiry_months", {"expiry_months": "0"}),
    ("expiry_months", {"expiry_months": "1000"}),
    ("warning_days", {"warning_days": "0"}),
    ("last_chance_days", {"last_chance_days": "30"}),
    ("last_chance_days", {"last_chance_days": "31"}),
    ("warning_days", {"expiry_months": "1", "warning_days": "60", "last_chance_days": "7"}),
    ("tier_basis", {"tier_basis": "forever"}),
    ("tier_window_months", {"tier_window_months": "0"}),
    ("expiry", {"expiry": "sometimes"}),
]


@pytest.mark.parametrize(("field", "bad"), BAD_RULES)
def test_bad_rules_are_refused_next_to_their_field_and_nothing_is_saved(
    staff_client, organisation, community, field, bad
):
    # given: rules already set
    RewardsPolicyFactory(community=community, join_points=5)
    # when
    page = staff_client.post(policy_url(organisation, community), {**GOOD, **bad})
    # then: the page again, with the error on the field; the rules as they were
    assert page.status_code == 400
    assert page.context["form"].errors.get(field), page.context["form"].errors
    assert "Nothing was saved" in page.content.decode()
    assert RewardsPolicy.objects.get(community=community).join_points == 5
    assert not AuditEntry.objects.filter(action="rewards_policy.update").exists()


def test_the_service_refuses_what_a_form_would_never_send(community, staff_user):
    fields = {
        "join_points": True,
        "profile_points": "20",
        "referral_points": -1,
        "poll_points": 10**12,
        "expiry_months": 0,
        "warning_days": 7,
        "last_chance_days": 7,
        "tier_basis": "forever",
        "tier_window_months": 12,
    }
    with pytest.raises(ValidationError) as refused:
        rewards_policy_update(community=community, actor=staff_user, **fields)
    assert set(refused.value.message_dict) == {
        "join_points",
        "profile_points",
        "referral_points",
        "poll_points",
        "expiry_months",
        "last_chance_days",
        "tier_basis",
    }
    assert not RewardsPolicy.objects.exists()


def test_another_organisations_community_is_404(staff_client, organisation, other_organisation):
    foreign = CommunityFactory(organisation=other_organisation)
    assert staff_client.get(policy_url(organisation, foreign)).status_code == 404
    assert staff_client.post(policy_url(organisation, foreign), GOOD).status_code == 404
    assert staff_client.post(tier_new_url(organisation, foreign), tier_data()).status_code == 404
    assert not RewardsPolicy.objects.exists() and not Tier.objects.exists()


def test_the_community_page_and_the_rewards_tabs_link_to_the_rules(
    staff_client, organisation, community
):
    page = staff_client.get(
        reverse("staff:community_detail", args=[organisation.slug, community.pk])
    )
    assert policy_url(organisation, community) in page.content.decode()
    listing = staff_client.get(reverse("staff:rewards_policy_list", args=[organisation.slug]))
    assert listing.status_code == 200
    assert policy_url(organisation, community) in listing.content.decode()


# --- tiers -----------------------------------------------------------------------------------


def test_an_admin_adds_a_tier_with_names_per_language(staff_client, organisation, community):
    page = staff_client.post(tier_new_url(organisation, community), tier_data())
    assert page.status_code == 302 and page.url == policy_url(organisation, community)
    tier = Tier.objects.get()
    assert tier.names == {"en": "Gold", "th": "ทอง"}
    assert (tier.threshold, tier.discount_percent) == (1000, 10)
    assert (tier.community, tier.organisation) == (community, organisation)
    entry = AuditEntry.objects.get(action="tier.create")
    assert entry.changes["threshold"] == [None, 1000]
    assert entry.target_id == str(tier.pk)


def test_the_organisations_default_language_names_the_tier(staff_client, organisation, community):
    # given: a Thai organisation
    organisation.default_language = "th"
    organisation.save(update_fields=["default_language"])
    # when: a tier named only in English
    page = staff_client.post(tier_new_url(organisation, community), tier_data(name_th=""))
    # then: the Thai name is asked for
    assert page.status_code == 400
    assert page.context["form"].errors.get("name_th")
    assert not Tier.objects.exists()


BAD_TIERS = [
    ("name_en", {"name_en": ""}),
    ("name_en", {"name_en": "x" * 101}),
    ("threshold", {"threshold": "-5"}),
    ("threshold", {"threshold": "lots"}),
    ("threshold", {"threshold": "99999999999999999999"}),
    ("threshold", {"threshold": ""}),
    ("discount_percent", {"discount_percent": "91"}),
    ("discount_percent", {"discount_percent": "-1"}),
    ("discount_percent", {"discount_percent": "10.5"}),
]


@pytest.mark.parametrize(("field", "bad"), BAD_TIERS)
def test_a_bad_tier_is_refused_next_to_its_field(staff_client, organisation, community, field, bad):
    page = staff_client.post(tier_new_url(organisation, community), tier_data(**bad))
    assert page.status_code == 400
    assert page.context["form"].errors.get(field), page.context["form"].errors
    assert not Tier.objects.exists() and not AuditEntry.objects.exists()


def test_a_second_tier_at_the_same_threshold_is_refused_clearly(
    staff_client, organisation, community
):
    TierFactory(community=community, threshold=1000)
    page = staff_client.post(tier_new_url(organisation, community), tier_data(name_en="Dup"))
    assert page.status_code == 400
    assert "Another tier of this community starts at this many points" in str(
        page.context["form"].errors["threshold"]
    )
    assert Tier.objects.count() == 1


def test_the_same_threshold_in_another_community_is_fine(staff_client, organisation, community):
    TierFactory(community=CommunityFactory(organisation=organisation), threshold=1000)
    assert staff_client.post(tier_new_url(organisation, community), tier_data()).status_code == 302


def test_the_service_turns_a_threshold_race_into_a_field_error(community, staff_user):
    tier_create(
        community=community,
        actor=staff_user,
        names={"en": "Gold"},
        threshold=10,
        discount_percent=0,
    )
    with pytest.raises(ValidationError) as refused:
        tier_create(
            community=community,
            actor=staff_user,
            names={"en": "Also gold"},
            threshold=10,
            discount_percent=0,
        )
    assert "threshold" in refused.value.message_dict


def test_an_admin_edits_a_tier_and_the_change_is_audited(staff_client, organisation, community):
    tier = TierFactory(community=community, names={"en": "Gold"}, threshold=1000)
    page = staff_client.post(
        tier_url(organisation, tier), tier_data(name_en="Platinum", threshold="1000")
    )
    assert page.status_code == 302
    tier.refresh_from_db()
    assert tier.names == {"en": "Platinum", "th": "ทอง"} and tier.discount_percent == 10
    entry = AuditEntry.objects.get(action="tier.update")
    assert entry.changes["discount_percent"] == [0, 10]
    assert "threshold" not in entry.changes


def test_editing_a_tier_onto_anothers_threshold_is_refused(staff_client, organisation, community):
    TierFactory(community=community, threshold=500)
    tier = TierFactory(community=community, names={"en": "Gold"}, threshold=1000)
    page = staff_client.post(tier_url(organisation, tier), tier_data(threshold="500"))
    assert page.status_code == 400 and page.context["form"].errors.get("threshold")
    tier.refresh_from_db()
    assert tier.threshold == 1000 and tier.names == {"en": "Gold"}


def test_an_admin_deletes_a_tier_by_post_only(staff_client, organisation, community):
    tier = TierFactory(community=community, names={"en": "Gold"}, threshold=1000)
    assert staff_client.get(tier_url(organisation, tier, "delete")).status_code == 405
    page = staff_client.post(tier_url(organisation, tier, "delete"))
    assert page.status_code == 302 and page.url == policy_url(organisation, community)
    assert not Tier.objects.exists()
    entry = AuditEntry.objects.get(action="tier.delete")
    assert entry.changes["threshold"] == [1000, None]


def test_another_organisations_tier_is_404(staff_client, organisation, other_organisation):
    foreign = TierFactory(community=CommunityFactory(organisation=other_organisation))
    assert staff_client.get(tier_url(organisation, foreign)).status_code == 404
    assert staff_client.post(tier_url(organisation, foreign), tier_data()).status_code == 404
    assert staff_client.post(tier_url(organisation, foreign, "delete")).status_code == 404
    assert Tier.objects.filter(pk=foreign.pk).exists()


def test_an_analyst_may_not_change_tiers(client, organisation, community):
    tier = TierFactory(community=community)
    analyst = client_as(client, organisation, Role.ANALYST)
    assert analyst.post(tier_new_url(organisation, community), tier_data()).status_code == 403
    assert analyst.post(tier_url(organisation, tier), tier_data()).status_code == 403
    assert analyst.post(tier_url(organisation, tier, "delete")).status_code == 403
    assert Tier.objects.count() == 1


def test_an_outsider_sees_nothing(client, organisation, community):
    client.force_login(UserFactory())
    assert client.get(policy_url(organisation, community)).status_code == 404


@pytest.mark.parametrize("language", ["en", "th", "he", "ja"])
def test_the_pages_render_in_every_language(staff_client, organisation, community, language):
    tier = TierFactory(community=community)
    staff_client.cookies["django_language"] = language
    for url in (
        policy_url(organisation, community),
        tier_new_url(organisation, community),
        tier_url(organisation, tier),
        reverse("staff:rewards_policy_list", args=[organisation.slug]),
    ):
        page = staff_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert page.status_code == 200, url
        assert f'lang="{language}"' in page.content.decode()
