"""The audit log records each staff action that matters for trust and PDPA/GDPR, in the
transaction that makes it: one entry with the right actor, target and before/after, and
none when the action is refused or changes nothing. (The page, export and retention:
test_audit_log.py.)
"""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.choices import JoinMode, Role
from communities.models import AuditEntry, StaffRole
from communities.services.organisations import staff_invitation_accept, staff_invitation_create
from tests.factories.communities import (
    CommunityFactory,
    MemberImportFactory,
    StaffInvitationFactory,
    StaffRoleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def staff(name, organisation, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


@pytest.fixture
def owner(organisation):
    return StaffRoleFactory(
        organisation=organisation, role=Role.OWNER, user=UserFactory(name="Olive Owner")
    ).user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def analyst_of(organisation, email="ann@example.com"):
    return StaffRoleFactory(
        organisation=organisation, role=Role.ANALYST, user=UserFactory(email=email)
    )


def entries(**filters):
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


# --- staff roles and invitations ----------------------------------------------------------------


def test_changing_a_role_records_who_changed_whose_role_from_what_to_what(
    owner_client, owner, organisation
):
    # given
    ann = analyst_of(organisation)

    # when
    page = owner_client.post(
        staff("team_role_change", organisation, ann.pk), {f"r{ann.pk}-role": "admin"}
    )

    # then
    assert page.status_code == 302
    [entry] = entries(action="staff.role_change")
    assert (entry.organisation, entry.actor) == (organisation, owner)
    assert (entry.target_type, entry.target_id) == ("staff_role", str(ann.pk))
    assert entry.target_label == "ann@example.com"
    assert entry.changes == {"role": ["analyst", "admin"]}


@pytest.mark.parametrize("case", ["admin_demotes_owner", "own_role", "same_role", "bad_role"])
def test_a_refused_or_empty_role_change_records_nothing(client, organisation, case):
    # given
    admin_role = StaffRoleFactory(organisation=organisation, role=Role.ADMIN)
    owner_role = StaffRoleFactory(organisation=organisation, role=Role.OWNER)
    ann = analyst_of(organisation)
    client.force_login(admin_role.user)
    target, role = {
        "admin_demotes_owner": (owner_role, "analyst"),
        "own_role": (admin_role, "owner"),
        "same_role": (ann, "analyst"),
        "bad_role": (ann, "god"),
    }[case]

    # when
    client.post(staff("team_role_change", organisation, target.pk), {f"r{target.pk}-role": role})

    # then
    assert not AuditEntry.objects.exists()


def test_removing_a_colleague_records_the_role_they_had(owner_client, owner, organisation):
    ann = analyst_of(organisation)

    owner_client.post(staff("team_remove", organisation, ann.pk))

    assert not StaffRole.objects.filter(pk=ann.pk).exists()
    [entry] = entries(action="staff.role_remove")
    assert entry.actor == owner and entry.target_id == str(ann.pk)
    assert entry.changes == {"role": ["analyst", None]}


def test_a_refused_removal_records_nothing(client, organisation):
    owner_role = StaffRoleFactory(organisation=organisation, role=Role.OWNER)
    admin_role = StaffRoleFactory(organisation=organisation, role=Role.ADMIN)
    client.force_login(admin_role.user)

    client.post(staff("team_remove", organisation, owner_role.pk))
    client.post(staff("team_remove", organisation, admin_role.pk))

    assert StaffRole.objects.count() == 2 and not AuditEntry.objects.exists()


def test_an_invitation_sent_accepted_and_a_new_organisation_grant_roles_on_record(
    owner_client, owner, organisation
):
    # when: an invitation is sent, and accepted by the invited person
    owner_client.post(staff("team", organisation), {"email": "bo@example.com", "role": "agent"})
    bo = UserFactory(email="bo@example.com")
    [invitation] = organisation.staff_invitations.all()
    staff_role = staff_invitation_accept(invitation=invitation, user=bo)
    # and someone makes an organisation of their own
    owner_client.post(
        reverse("staff_home"), {"name": "Siam", "slug": "siam", "default_language": "th"}
    )

    # then
    sent, granted, first_owner = entries()
    assert (sent.action, sent.actor, sent.target_type) == (
        "staff_invitation.send",
        owner,
        "staff_invitation",
    )
    assert sent.target_label == "bo@example.com" and sent.changes == {"role": [None, "agent"]}
    assert (granted.action, granted.actor, granted.target_id) == (
        "staff.role_grant",
        bo,
        str(staff_role.pk),
    )
    assert granted.changes == {"role": [None, "agent"]}
    assert first_owner.organisation.slug == "siam" and first_owner.actor == owner
    assert first_owner.changes == {"role": [None, "owner"]}


def test_a_refused_invitation_records_nothing(owner, organisation):
    staff_invitation_create(
        organisation=organisation,
        email="x@example.com",
        role="agent",
        invited_by=owner,
        actor_role=Role.OWNER,
    )
    for email, role in (("X@example.com", "agent"), ("y@example.com", "god"), ("nope", "agent")):
        with pytest.raises(Exception):  # noqa: B017 - each is a ValidationError of its own
            staff_invitation_create(
                organisation=organisation,
                email=email,
                role=role,
                invited_by=owner,
                actor_role=Role.OWNER,
            )
    assert [e.action for e in entries()] == ["staff_invitation.send"]


def test_revoking_an_invitation_is_recorded_once(owner_client, owner, organisation):
    invitation = StaffInvitationFactory(organisation=organisation, email="cy@example.com")
    accepted = StaffInvitationFactory(organisation=organisation, accepted_at=timezone.now())

    for _ in range(2):
        owner_client.post(staff("staff_invitation_revoke", organisation, invitation.pk))
    owner_client.post(staff("staff_invitation_revoke", organisation, accepted.pk))

    [entry] = entries()
    assert (entry.action, entry.actor, entry.target_label) == (
        "staff_invitation.revoke",
        owner,
        "cy@example.com",
    )


# --- API keys ---------------------------------------------------------------------------------


def test_api_keys_created_and_revoked_are_recorded_but_never_the_key(
    owner_client, owner, organisation
):
    # when
    page = owner_client.post(
        staff("api_tokens", organisation), {"name": "Zendesk", "scopes": ["members:read"]}
    )
    key = page.context["new_key"]
    token = page.context["new_token"]
    for _ in range(2):
        owner_client.post(staff("api_token_revoke", organisation, token.pk))

    # then
    created, revoked = entries()
    assert (created.action, created.actor, created.target_type, created.target_id) == (
        "api_token.create",
        owner,
        "api_token",
        str(token.pk),
    )
    assert "Zendesk" in created.target_label
    assert (revoked.action, revoked.actor) == ("api_token.revoke", owner)
    secret = key.split("_", 2)[2]
    for entry in (created, revoked):
        assert secret not in json.dumps([entry.target_label, entry.changes, entry.target_id])


def test_an_invalid_key_name_records_nothing(owner_client, organisation):
    page = owner_client.post(staff("api_tokens", organisation), {"name": " "})
    assert page.status_code == 400 and not AuditEntry.objects.exists()


# --- communities and their policy -------------------------------------------------------------


def community_form(**overrides):
    return {
        "name": "Coffee Lovers",
        "slug": "coffee-lovers",
        "description": "",
        "join_mode": JoinMode.OPEN,
        "logo": "",
        "brand_colour": "",
        "welcome_text": "",
        "consent_text": "I agree to the terms.",
        "privacy_policy_text": "We keep your answers safe.",
        "new_days": 30,
        "lapsed_days": 90,
        "churned_days": 180,
        **overrides,
    }


def test_a_community_created_then_edited_then_given_a_new_policy_is_on_record(
    owner_client, owner, organisation
):
    # when: created, its name changed, then its privacy text
    owner_client.post(staff("community_create", organisation), community_form())
    community = organisation.communities.get()
    edit = staff("community_edit", organisation, community.pk)
    owner_client.post(edit, community_form(name="Coffee Club"))
    owner_client.post(edit, community_form(name="Coffee Club", privacy_policy_text="New text."))

    # then
    created, renamed, published = entries()
    assert (created.action, created.actor, created.target_label) == (
        "community.create",
        owner,
        "Coffee Lovers",
    )
    assert created.changes["policy_version"] == [None, 1]
    assert created.changes["privacy_policy_text"] == [None, "We keep your answers safe."]
    assert (renamed.action, renamed.changes) == (
        "community.update",
        {"name": ["Coffee Lovers", "Coffee Club"]},
    )
    assert published.action == "community.policy_publish"
    assert published.changes == {
        "privacy_policy_text": ["We keep your answers safe.", "New text."],
        "policy_version": [1, 2],
    }


def test_a_refused_community_edit_records_nothing(owner_client, organisation):
    community = CommunityFactory(organisation=organisation)
    page = owner_client.post(
        staff("community_edit", organisation, community.pk),
        community_form(privacy_policy_text="New", lapsed_days=200, churned_days=100),
    )
    assert page.status_code == 400 and not AuditEntry.objects.exists()


# --- a member's data ----------------------------------------------------------------------------


def my_data(name, community):
    return reverse(f"community:{name}", args=[community.organisation.slug, community.slug])


def test_a_members_own_download_and_erasure_are_recorded_without_their_address(
    member_client, member, community, organisation
):
    # when
    member_client.get(my_data("export", community))
    member_client.post(my_data("erase", community), {"confirmation": "ERASE"})

    # then: the member did both (no staff actor), named by number only
    exported, erased = entries()
    assert (exported.action, erased.action) == ("member.export", "member.erase")
    for entry in (exported, erased):
        assert entry.organisation == organisation and entry.actor is None
        assert (entry.target_type, entry.target_id) == ("member", str(member.pk))
        assert entry.target_label == f"member #{member.pk}"
        assert "member@example.com" not in json.dumps([entry.target_label, entry.changes])
    assert erased.changes == {"status": ["active", "erased"]}


def test_an_erasure_not_confirmed_records_nothing(member_client, community):
    member_client.post(my_data("erase", community), {"confirmation": "nope"})
    assert not AuditEntry.objects.exists()


def test_downloading_an_imports_problem_report_is_recorded(staff_client, staff_user, organisation):
    member_import = MemberImportFactory(
        community__organisation=organisation,
        errors=[{"row": 2, "column": "email", "value": "x", "message": "bad"}],
    )
    page = staff_client.get(staff("member_import_errors", organisation, member_import.pk))
    assert page.status_code == 200
    [entry] = entries()
    assert (entry.action, entry.actor, entry.target_id) == (
        "member_import.problems_download",
        staff_user,
        str(member_import.pk),
    )
