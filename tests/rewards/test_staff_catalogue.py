"""Staff manage the reward catalogue: create and edit rewards (name and description in the
organisation's language and optionally the others, an image, cost, stock, limits, an
availability window), offer or withdraw them, and read the list with what is left.

Owners and admins change the catalogue; analysts read it; agents do not see it (the walks
in tests/communities check every role and another organisation's ids). Every change is in
the audit log; bad input is shown again with its errors and writes nothing.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from communities.choices import Role
from communities.models import AuditEntry
from rewards.models import Reward
from rewards.services import voucher_codes_upload
from tests.factories.communities import CommunityFactory, StaffRoleFactory
from tests.factories.rewards import RedemptionFactory, RewardFactory, VoucherCodeFactory
from tests.rewards.test_reward_images import image_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def community(organisation):
    return CommunityFactory(organisation=organisation, name="Coffee lovers")


def client_as(organisation, role) -> Client:
    client = Client()
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    return client


@pytest.fixture
def owner_client(organisation) -> Client:
    return client_as(organisation, Role.OWNER)


def url(name, organisation, *args) -> str:
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


def form(community, /, **overrides):
    data = {
        "community": community.pk,
        "kind": "physical",
        "name": "Travel mug",
        "description": "Keeps coffee hot for hours.",
        "name_th": "แก้วเดินทาง",
        "description_th": "",
        "name_he": "ספל נסיעות",
        "name_ja": "",
        "cost": "500",
        "stock": "20",
        "per_member_limit": "1",
        "available_from": "",
        "available_until": "",
        "auto_approve": "",
        "active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- creating ------------------------------------------------------------------------------


def test_an_owner_creates_a_reward_with_translations_and_an_image_and_it_is_audited(
    owner_client, organisation, community
):
    # when
    response = owner_client.post(
        url("reward_create", organisation), form(community, image=image_upload())
    )

    # then: back to the list, the reward as entered, the creation in the audit log
    assert response.status_code == 302
    assert response["Location"] == url("reward_list", organisation)
    reward = Reward.objects.get()
    assert (reward.organisation, reward.community, reward.kind) == (
        organisation,
        community,
        "physical",
    )
    assert (reward.cost, reward.stock, reward.per_member_limit) == (500, 20, 1)
    assert reward.translations == {"th": {"name": "แก้วเดินทาง"}, "he": {"name": "ספל נסיעות"}}
    assert reward.name_in("th") == "แก้วเดินทาง" and reward.name_in("ja") == "Travel mug"
    assert reward.image.name.endswith(".png") and reward.active
    entry = AuditEntry.objects.get(action="reward.create")
    assert entry.target_id == str(reward.pk) and entry.changes["cost"] == [None, 500]


def test_a_voucher_reward_goes_on_to_its_codes_page(owner_client, organisation, community):
    response = owner_client.post(
        url("reward_create", organisation), form(community, kind="voucher", stock="")
    )

    reward = Reward.objects.get()
    assert response["Location"] == url("voucher_upload", organisation, reward.pk)


def test_a_reward_for_every_community_has_no_community(owner_client, organisation, community):
    owner_client.post(url("reward_create", organisation), form(community, community=""))

    assert Reward.objects.get().community is None


def test_two_rewards_may_share_a_name(owner_client, organisation, community):
    # A name is what members read, not a key: a "Mug" in two communities is fine.
    RewardFactory(organisation=organisation, community=community, name="Travel mug")

    response = owner_client.post(url("reward_create", organisation), form(community))

    assert response.status_code == 302
    assert Reward.objects.filter(name="Travel mug").count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name_th": "x" * 201}, "name_th"),
        ({"description": "x" * 2001}, "description"),
        ({"kind": None}, "kind"),
        ({"kind": "lottery"}, "kind"),
        ({"cost": None}, "cost"),
        ({"cost": "abc"}, "cost"),
        ({"cost": "0"}, "cost"),
        ({"cost": "-5"}, "cost"),
        ({"cost": "1.5"}, "cost"),
        ({"cost": "99999999999"}, "cost"),
        ({"stock": "-1"}, "stock"),
        ({"stock": "many"}, "stock"),
        ({"per_member_limit": "0"}, "per_member_limit"),
        ({"kind": "voucher", "stock": "10"}, "stock"),
        ({"available_from": "tomorrow"}, "available_from"),
        (
            {"available_from": "2030-05-01T10:00", "available_until": "2030-05-01T10:00"},
            "available_until",
        ),
        (
            {"available_from": "2030-05-02T10:00", "available_until": "2030-05-01T10:00"},
            "available_until",
        ),
        ({"community": "abc"}, "community"),
        ({"community": "999999"}, "community"),
    ],
    ids=lambda value: str(value)[:40] if isinstance(value, dict) else value,
)
def test_bad_input_is_shown_again_with_its_error_and_nothing_is_saved(
    owner_client, organisation, community, overrides, field
):
    # when
    page = owner_client.post(url("reward_create", organisation), form(community, **overrides))

    # then
    assert page.status_code == 400
    assert field in page.context["form"].errors
    assert "Nothing was saved" in page.content.decode()
    assert not Reward.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="reward.").exists()


def test_another_organisations_community_is_refused(
    owner_client, organisation, community, other_organisation
):
    # given: a community of another organisation
    theirs = CommunityFactory(organisation=other_organisation)

    # when
    page = owner_client.post(
        url("reward_create", organisation), form(community, community=theirs.pk)
    )

    # then
    assert page.status_code == 400
    assert page.context["form"].errors["community"] == [
        "Choose one of your organisation's communities."
    ]
    assert not Reward.objects.exists()


def test_an_oversized_image_is_refused_with_the_limit(
    owner_client, organisation, community, settings
):
    settings.REWARD_IMAGE_MAX_BYTES = 100

    page = owner_client.post(
        url("reward_create", organisation), form(community, image=image_upload(size=(80, 80)))
    )

    assert page.status_code == 400
    assert "larger than 100 KB" not in page.context["form"].errors["image"][0]
    assert "larger than" in page.context["form"].errors["image"][0]
    assert not Reward.objects.exists()


def test_the_window_is_read_in_the_organisations_time_zone(owner_client, organisation, community):
    # given: an organisation in Bangkok (UTC+7)
    organisation.time_zone = "Asia/Bangkok"
    organisation.save()

    # when
    owner_client.post(
        url("reward_create", organisation),
        form(community, available_from="2030-05-01T10:00", available_until="2030-05-02T10:00"),
    )

    # then: 10:00 in Bangkok is 03:00 UTC, and the edit page shows 10:00 again
    reward = Reward.objects.get()
    assert reward.available_from == datetime.datetime(2030, 5, 1, 3, 0, tzinfo=datetime.UTC)
    page = owner_client.get(url("reward_edit", organisation, reward.pk))
    assert 'value="2030-05-01T10:00"' in page.content.decode()


# --- editing -------------------------------------------------------------------------------


def test_an_edit_saves_and_audits_only_what_changed(owner_client, organisation, community):
    # given
    reward = RewardFactory(organisation=organisation, community=community, name="Mug", cost=100)

    # when
    response = owner_client.post(
        url("reward_edit", organisation, reward.pk),
        form(
            community,
            name="Mug",
            cost="150",
            stock="10",
            per_member_limit="",
            name_th="",
            name_he="",
        ),
    )

    # then
    assert response.status_code == 302
    reward.refresh_from_db()
    assert reward.cost == 150
    entry = AuditEntry.objects.get(action="reward.update")
    assert set(entry.changes) == {"kind", "description", "cost"}


def test_saving_an_unchanged_reward_writes_no_audit_entry(owner_client, organisation, community):
    reward = RewardFactory(organisation=organisation, community=community, name="Mug", cost=100)
    fields = dict(kind="perk", name="Mug", description="", cost="100", stock="10")
    blank = dict(name_th="", name_he="", per_member_limit="")

    owner_client.post(
        url("reward_edit", organisation, reward.pk), form(community, **fields, **blank)
    )

    assert not AuditEntry.objects.filter(action="reward.update").exists()


def test_a_new_image_gets_a_new_key_and_the_old_file_goes_after_commit(
    owner_client, organisation, community, media_root, django_capture_on_commit_callbacks
):
    # given: a reward with an image
    owner_client.post(url("reward_create", organisation), form(community, image=image_upload()))
    reward = Reward.objects.get()
    old_name, old_key = reward.image.name, reward.image_key

    # when: another image is uploaded
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            url("reward_edit", organisation, reward.pk),
            form(community, image=image_upload("new.gif", kind="GIF")),
        )

    # then: a new URL (the key), the old file deleted
    reward.refresh_from_db()
    assert reward.image_key != old_key and reward.image.name.endswith(".gif")
    assert not (media_root / old_name).exists()
    assert (media_root / reward.image.name).exists()


def test_the_image_can_be_removed(owner_client, organisation, community):
    owner_client.post(url("reward_create", organisation), form(community, image=image_upload()))
    reward = Reward.objects.get()

    owner_client.post(
        url("reward_edit", organisation, reward.pk), form(community, image_clear="on")
    )

    reward.refresh_from_db()
    assert not reward.image and reward.image_key == ""


def test_a_reward_with_codes_or_redemptions_keeps_its_kind(owner_client, organisation, community):
    # given: a voucher reward with codes, a physical one with a redemption
    voucher = RewardFactory(
        organisation=organisation, community=community, kind="voucher", stock=None
    )
    VoucherCodeFactory(reward=voucher)
    physical = RewardFactory(organisation=organisation, community=community, kind="physical")
    RedemptionFactory(reward=physical, member__community=community)

    # when
    first = owner_client.post(
        url("reward_edit", organisation, voucher.pk), form(community, kind="perk")
    )
    second = owner_client.post(
        url("reward_edit", organisation, physical.pk), form(community, kind="perk")
    )

    # then
    assert first.status_code == second.status_code == 400
    assert "kind" in first.context["form"].errors and "kind" in second.context["form"].errors
    assert {r.kind for r in Reward.objects.all()} == {"voucher", "physical"}


def test_another_organisations_reward_answers_404(owner_client, organisation, other_organisation):
    theirs = RewardFactory(organisation=other_organisation)

    edit = owner_client.post(url("reward_edit", organisation, theirs.pk), {"name": "Mine now"})
    toggle = owner_client.post(url("reward_toggle", organisation, theirs.pk), {"active": "0"})

    assert edit.status_code == toggle.status_code == 404
    theirs.refresh_from_db()
    assert theirs.active and theirs.name != "Mine now"


# --- offering and withdrawing --------------------------------------------------------------


def test_withdrawing_and_offering_again_are_audited_once_each(owner_client, organisation):
    reward = RewardFactory(organisation=organisation)
    toggle = url("reward_toggle", organisation, reward.pk)

    owner_client.post(toggle, {"active": "0"})
    owner_client.post(toggle, {"active": "0"})  # a double click
    reward.refresh_from_db()
    assert not reward.active
    owner_client.post(toggle, {"active": "1"})

    reward.refresh_from_db()
    assert reward.active
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["reward.deactivate", "reward.activate"]


@pytest.mark.parametrize("data", [{}, {"active": "maybe"}])
def test_a_toggle_without_a_clear_choice_changes_nothing(owner_client, organisation, data):
    reward = RewardFactory(organisation=organisation)

    response = owner_client.post(url("reward_toggle", organisation, reward.pk), data, follow=True)

    reward.refresh_from_db()
    assert reward.active
    assert "Choose whether to offer the reward or withdraw it." in response.content.decode()


# --- the list ------------------------------------------------------------------------------


def test_the_list_filters_by_community_and_status_and_shows_what_is_left(
    organisation, community, django_assert_max_num_queries
):
    # given: rewards of two communities, a withdrawn one, a voucher with codes left
    other = CommunityFactory(organisation=organisation, name="Tea lovers")
    mug = RewardFactory(organisation=organisation, community=community, name="Mug", stock=7)
    RewardFactory(organisation=organisation, community=other, name="Teapot")
    RewardFactory(organisation=organisation, community=community, name="Old", active=False)
    voucher = RewardFactory(
        organisation=organisation, community=community, kind="voucher", stock=None, name="Coupon"
    )
    VoucherCodeFactory.create_batch(3, reward=voucher)
    client = client_as(organisation, Role.ANALYST)

    # when
    with django_assert_max_num_queries(12):
        page = client.get(
            url("reward_list", organisation), {"community": community.pk, "active": "1"}
        )

    # then
    rewards = {r.name: r for r in page.context["rewards"]}
    assert set(rewards) == {"Mug", "Coupon"}
    assert rewards["Coupon"].codes_left == 3 and rewards["Mug"].stock == mug.stock
    html = page.content.decode()
    assert "3 codes" in html
    # and an analyst has no buttons that change anything
    assert url("reward_edit", organisation, mug.pk) not in html
    assert url("reward_toggle", organisation, mug.pk) not in html


def test_a_filter_naming_another_organisations_community_shows_an_error_not_their_rewards(
    owner_client, organisation, other_organisation
):
    theirs = CommunityFactory(organisation=other_organisation)
    RewardFactory(organisation=other_organisation, community=theirs, name="Their prize")
    RewardFactory(organisation=organisation, name="Our prize")

    page = owner_client.get(url("reward_list", organisation), {"community": theirs.pk})

    assert page.status_code == 200
    assert "community" in page.context["form"].errors
    assert [r.name for r in page.context["rewards"]] == ["Our prize"]


def test_the_staff_navbar_links_to_rewards_for_those_who_read_them(organisation):
    for role, shown in [(Role.ANALYST, True), (Role.AGENT, False)]:
        page = client_as(organisation, role).get(
            reverse(
                "staff:case_list" if role == Role.AGENT else "staff:survey_list",
                args=[organisation.slug],
            )
        )
        assert (url("reward_list", organisation) in page.content.decode()) is shown


@pytest.mark.parametrize(("language", "direction"), [("th", "ltr"), ("he", "rtl"), ("ja", "ltr")])
def test_every_catalogue_page_speaks_the_staff_members_language(
    organisation, community, language, direction
):
    # given: a staff member who chose a language, and a reward of each kind of page
    client = client_as(organisation, Role.OWNER)
    client.post(reverse("staff_language"), {"language": language})
    reward = RewardFactory(organisation=organisation, community=community)
    voucher = RewardFactory(
        organisation=organisation, community=community, kind="voucher", stock=None
    )
    upload = voucher_codes_upload(reward=voucher, actor=None, filename="c.csv", data=b"A-1\n")

    # when / then: each page answers in that language and direction
    for page_url in (
        url("reward_list", organisation),
        url("reward_create", organisation),
        url("reward_edit", organisation, reward.pk),
        url("voucher_upload", organisation, voucher.pk),
        url("voucher_upload_detail", organisation, upload.pk),
    ):
        page = client.get(page_url)
        assert page.status_code == 200, page_url
        assert f'<html lang="{language}" dir="{direction}">' in page.content.decode()
