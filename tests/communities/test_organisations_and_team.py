"""Organisations, switching between them, and the team: roles and staff invitations."""

import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from communities import flows
from communities.choices import Role
from communities.links import LINK_KINDS
from communities.models import Organisation, StaffInvitation, StaffRole
from communities.outbox.models import OutboundEmail
from communities.services import (
    staff_invitation_accept,
    staff_invitation_create,
    staff_invitation_token,
    staff_role_change,
    staff_role_remove,
)
from tests.factories.communities import (
    OrganisationFactory,
    StaffInvitationFactory,
    StaffRoleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff(organisation, role, email=None):
    kwargs = {"email": email} if email else {}
    return StaffRoleFactory(organisation=organisation, role=role, user=UserFactory(**kwargs))


def team_url(organisation) -> str:
    return reverse("staff:team", args=[organisation.slug])


def accept_url(invitation) -> str:
    return reverse("staff_invitation_accept", args=[staff_invitation_token(invitation=invitation)])


# --- organisations --------------------------------------------------------------------------


def test_staff_home_lists_each_organisation_with_my_role(staff_user, organisation):
    # given: the user is admin of one organisation and an agent in another
    other = OrganisationFactory(name="Zeta Hotels")
    StaffRoleFactory(user=staff_user, organisation=other, role=Role.AGENT)

    # when
    page = client_of(staff_user).get(reverse("staff_home")).content.decode()

    # then: both, with roles, and the agent's organisation opens on its cases
    assert "Demo Coffee" in page and "Zeta Hotels" in page
    assert "Admin" in page and "Agent" in page
    assert reverse("staff:case_list", args=[other.slug]) in page
    assert reverse("staff:survey_list", args=[other.slug]) not in page


def test_creating_an_organisation_makes_me_its_owner(staff_client, staff_user):
    # when
    page = staff_client.post(
        reverse("staff_home"),
        {"name": "Siam Noodles", "slug": "siam-noodles", "default_language": "th"},
    )

    # then
    organisation = Organisation.objects.get(slug="siam-noodles")
    assert page.status_code == 302
    assert page["Location"] == reverse("staff:community_list", args=["siam-noodles"])
    assert organisation.default_language == "th"
    assert StaffRole.objects.get(organisation=organisation).user == staff_user
    assert StaffRole.objects.get(organisation=organisation).role == Role.OWNER


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "X", "slug": "Not a slug!", "default_language": "en"}, "slug", "valid"),
        ({"name": "", "slug": "fine", "default_language": "en"}, "name", "required"),
        ({"name": "X" * 201, "slug": "fine", "default_language": "en"}, "name", "at most 200"),
        ({"name": "X", "slug": "x" * 81, "default_language": "en"}, "slug", "at most 80"),
        ({"name": "X", "slug": "demo-coffee", "default_language": "en"}, "slug", "already uses"),
        ({"name": "X", "slug": "new", "default_language": "en"}, "slug", "reserved"),
        ({"name": "X", "slug": "fine", "default_language": "xx"}, "default_language", "valid"),
    ],
)
def test_creating_an_organisation_with_bad_input_explains_and_writes_nothing(
    staff_client, organisation, data, field, message
):
    # when
    page = staff_client.post(reverse("staff_home"), data)

    # then
    assert page.status_code == 400
    errors = page.context["form"].errors[field]
    assert any(message in error for error in errors), errors
    assert Organisation.objects.count() == 1


def test_switcher_keeps_me_in_the_same_section_where_my_role_allows(staff_user, organisation):
    # given: analyst in one more organisation, agent in a third
    analyst_org = OrganisationFactory(name="Analyst Org")
    agent_org = OrganisationFactory(name="Agent Org")
    StaffRoleFactory(user=staff_user, organisation=analyst_org, role=Role.ANALYST)
    StaffRoleFactory(user=staff_user, organisation=agent_org, role=Role.AGENT)
    client = client_of(staff_user)

    # when: on the communities page of my own organisation
    page = client.get(reverse("staff:community_list", args=[organisation.slug])).content.decode()

    # then: the analyst organisation opens on its communities, the agent one on cases
    assert reverse("staff:community_list", args=[analyst_org.slug]) in page
    assert reverse("staff:case_list", args=[agent_org.slug]) in page
    assert reverse("staff:community_list", args=[agent_org.slug]) not in page

    # when: on the team page, which the analyst may not open
    page = client.get(team_url(organisation)).content.decode()

    # then: the analyst organisation opens on its surveys instead
    assert reverse("staff:team", args=[analyst_org.slug]) not in page
    assert reverse("staff:survey_list", args=[analyst_org.slug]) in page


@pytest.mark.parametrize(
    ("role", "sees_team"),
    [(Role.OWNER, True), (Role.ADMIN, True), (Role.ANALYST, False), (Role.AGENT, False)],
)
def test_team_link_shows_only_to_owners_and_admins(organisation, role, sees_team):
    user = staff(organisation, role).user
    landing = "survey_list" if role != Role.AGENT else "case_list"
    page = client_of(user).get(reverse(f"staff:{landing}", args=[organisation.slug]))
    assert (team_url(organisation) in page.content.decode()) is sees_team


# --- inviting --------------------------------------------------------------------------------


def test_owner_invites_a_colleague_who_gets_an_email_with_a_working_link(organisation):
    # given
    owner = staff(organisation, Role.OWNER, "boss@example.com").user

    # when
    page = client_of(owner).post(
        team_url(organisation), {"email": " Ann@Example.com ", "role": Role.ANALYST}
    )

    # then: an open invitation, listed on the team page
    assert page.status_code == 302
    invitation = StaffInvitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "ann@example.com",
        Role.ANALYST,
        owner,
    )
    assert "ann@example.com" in client_of(owner).get(team_url(organisation)).content.decode()
    # and one email through the outbox, whose link opens the invitation
    email = OutboundEmail.objects.get(template="staff_invitation")
    assert email.to_email == "ann@example.com"
    assert "Demo Coffee" in email.subject
    link = re.search(r"https?://\S+/staff-invitation/\S+/", email.body_text).group(0)
    path = "/" + link.split("/", 3)[3]
    assert Client().get(path).status_code == 200


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "required"),
        ("not-an-email", "valid email"),
        ("a" * 250 + "@example.com", "at most 254"),
    ],
)
def test_inviting_a_bad_address_explains_and_sends_nothing(
    staff_client, organisation, email, message
):
    page = staff_client.post(team_url(organisation), {"email": email, "role": Role.ANALYST})
    assert page.status_code == 400
    assert any(message in e for e in page.context["form"].errors["email"])
    assert not StaffInvitation.objects.exists() and not OutboundEmail.objects.exists()


def test_a_second_open_invitation_to_the_same_address_is_refused(staff_client, organisation):
    # given
    staff_client.post(team_url(organisation), {"email": "ann@example.com", "role": "analyst"})

    # when: the same address again, in other capitals
    page = staff_client.post(team_url(organisation), {"email": "ANN@example.com", "role": "agent"})

    # then
    assert page.status_code == 400
    assert "already waiting" in page.context["form"].errors["email"][0]
    assert StaffInvitation.objects.count() == 1 and OutboundEmail.objects.count() == 1


def test_after_revoking_the_address_can_be_invited_again(staff_client, organisation):
    staff_client.post(team_url(organisation), {"email": "ann@example.com", "role": "analyst"})
    invitation = StaffInvitation.objects.get()

    page = staff_client.post(
        reverse("staff:staff_invitation_revoke", args=[organisation.slug, invitation.pk])
    )
    assert page.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None

    page = staff_client.post(team_url(organisation), {"email": "ann@example.com", "role": "agent"})
    assert page.status_code == 302
    assert StaffInvitation.objects.count() == 2


def test_someone_already_on_the_team_is_not_invited(staff_client, organisation):
    staff(organisation, Role.AGENT, "agent@example.com")
    page = staff_client.post(
        team_url(organisation), {"email": "agent@example.com", "role": "admin"}
    )
    assert page.status_code == 400
    assert "already on the team" in page.context["form"].errors["email"][0]


def test_an_admin_cannot_invite_an_owner(staff_client, organisation):
    # the page does not offer it, and the service refuses it if asked
    page = staff_client.post(team_url(organisation), {"email": "x@example.com", "role": "owner"})
    assert page.status_code == 400 and "role" in page.context["form"].errors
    with pytest.raises(ValidationError, match="Only an owner"):
        staff_invitation_create(
            organisation=organisation,
            email="x@example.com",
            role=Role.OWNER,
            invited_by=UserFactory(),
            actor_role=Role.ADMIN,
        )
    assert not StaffInvitation.objects.exists()


def test_an_unknown_role_is_refused(staff_client, organisation):
    page = staff_client.post(team_url(organisation), {"email": "x@example.com", "role": "god"})
    assert page.status_code == 400 and "role" in page.context["form"].errors


def test_invitations_are_rate_limited_per_organisation(staff_client, organisation, monkeypatch):
    # given: a small hourly allowance
    monkeypatch.setattr(flows, "STAFF_INVITES_PER_HOUR", 2)
    for n in range(2):
        page = staff_client.post(
            team_url(organisation), {"email": f"p{n}@example.com", "role": "agent"}
        )
        assert page.status_code == 302

    # when: one more in the same hour
    page = staff_client.post(team_url(organisation), {"email": "p9@example.com", "role": "agent"})

    # then
    assert page.status_code == 429
    assert "Too many invitations" in page.content.decode()
    assert StaffInvitation.objects.count() == 2


def test_analysts_and_agents_cannot_open_the_team_page_or_invite(organisation):
    for role in (Role.ANALYST, Role.AGENT):
        client = client_of(staff(organisation, role).user)
        assert client.get(team_url(organisation)).status_code == 403
        assert (
            client.post(
                team_url(organisation), {"email": "x@example.com", "role": "admin"}
            ).status_code
            == 403
        )
    assert not StaffInvitation.objects.exists()


def test_team_page_query_count_does_not_grow_with_the_team(
    staff_client, organisation, django_assert_max_num_queries
):
    for n in range(15):
        staff(organisation, Role.ANALYST)
        StaffInvitationFactory(organisation=organisation, email=f"wait{n}@example.com")
    with django_assert_max_num_queries(8):
        page = staff_client.get(team_url(organisation))
    assert page.status_code == 200
    assert page.content.decode().count("wait") >= 15


# --- accepting -------------------------------------------------------------------------------


def test_signed_out_visitor_is_offered_sign_in_and_sign_up_that_come_back(organisation):
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    url = accept_url(invitation)

    page = Client().get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Join Demo Coffee" in html
    assert f"/accounts/login/?{urlencode({'next': url})}" in html
    assert "/accounts/signup/?next=" in html and "email=ann%40example.com" in html


def test_signing_up_from_the_invitation_needs_no_second_email_check(organisation):
    # given: a newcomer opened the invitation link (which proves the mailbox is theirs)
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    url = accept_url(invitation)
    client = Client()
    client.get(url)

    # when: they sign up with that address
    page = client.post(
        reverse("account_signup") + f"?next={url}",
        {
            "email": "ann@example.com",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
            "next": url,
        },
    )

    # then: signed in, address verified, back on the invitation, and one click accepts
    assert page.status_code == 302 and page["Location"] == url
    assert EmailAddress.objects.get(email="ann@example.com").verified
    page = client.post(url)
    assert page.status_code == 302
    assert page["Location"] == reverse("staff:survey_list", args=[organisation.slug])
    assert StaffRole.objects.get(user__email="ann@example.com").role == Role.ANALYST


def test_the_invited_person_accepts_and_gets_the_role(organisation):
    # given
    colleague = UserFactory(email="ann@example.com")
    invitation = StaffInvitationFactory(
        organisation=organisation, email="ann@example.com", role=Role.AGENT
    )
    client = client_of(colleague)

    # when: they open the link, then press accept
    assert client.get(accept_url(invitation)).status_code == 200
    page = client.post(accept_url(invitation))

    # then: an agent, landing on the cases
    assert page["Location"] == reverse("staff:case_list", args=[organisation.slug])
    assert StaffRole.objects.get(user=colleague, organisation=organisation).role == Role.AGENT
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.accepted_by == colleague
    # and opening the used link again just takes them in
    again = client.get(accept_url(invitation))
    assert again.status_code == 302 and again["Location"].endswith("/cases/")


def test_someone_signed_in_with_another_address_cannot_accept(organisation):
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    intruder = client_of(UserFactory(email="eve@example.com"))

    page = intruder.get(accept_url(invitation))
    assert page.status_code == 403
    assert "sent to ann@example.com" in page.content.decode()
    assert intruder.post(accept_url(invitation)).status_code == 403
    assert not StaffRole.objects.filter(organisation=organisation).exists()


def test_an_unverified_matching_address_cannot_accept(organisation):
    user = UserFactory(email="ann@example.com", verified=False)
    user.save()  # the factory saves the password hash only for verified users
    EmailAddress.objects.create(user=user, email="ann@example.com", verified=False, primary=True)
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    assert client_of(user).post(accept_url(invitation)).status_code == 403
    assert not StaffRole.objects.filter(organisation=organisation).exists()


def test_a_second_verified_address_of_the_account_can_accept(organisation):
    user = UserFactory(email="ann@work.example")
    EmailAddress.objects.create(user=user, email="ann@example.com", verified=True, primary=False)
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    assert client_of(user).post(accept_url(invitation)).status_code == 302
    assert StaffRole.objects.filter(organisation=organisation, user=user).exists()


def test_an_invitation_never_demotes_someone_already_on_the_staff(organisation):
    owner = staff(organisation, Role.OWNER, "ann@example.com").user
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    staff_invitation_accept(invitation=invitation, user=owner)
    assert StaffRole.objects.get(user=owner).role == Role.OWNER


@pytest.mark.parametrize(
    ("make_link", "status", "text"),
    [
        (lambda inv: accept_url(inv)[:-8] + "/", 400, "not valid"),
        (lambda inv: "/staff-invitation/nonsense/", 400, "not valid"),
        (
            lambda inv: (
                accept_url(inv)
                if StaffInvitation.objects.filter(pk=inv.pk).update(revoked_at="2020-01-01T00:00Z")
                else None
            ),
            410,
            "withdrawn",
        ),
        (
            lambda inv: (
                accept_url(inv)
                if StaffInvitation.objects.filter(pk=inv.pk).update(accepted_at="2020-01-01T00:00Z")
                else None
            ),
            409,
            "already been accepted",
        ),
    ],
    ids=["cut-short", "forged", "revoked", "used"],
)
def test_a_bad_link_gets_a_clear_page(organisation, make_link, status, text):
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    client = client_of(UserFactory(email="ann@example.com"))
    link = make_link(invitation)
    for page in (client.get(link), client.post(link)):
        assert page.status_code == status
        assert text in page.content.decode()
    assert not StaffRole.objects.filter(organisation=organisation).exists()


def test_an_expired_link_gets_a_clear_page(organisation, monkeypatch):
    invitation = StaffInvitationFactory(organisation=organisation, email="ann@example.com")
    link = accept_url(invitation)
    expired = replace(LINK_KINDS["staff_invitation"], max_age=timedelta(seconds=-1))
    monkeypatch.setitem(LINK_KINDS, "staff_invitation", expired)
    page = client_of(UserFactory(email="ann@example.com")).post(link)
    assert page.status_code == 410 and "expired" in page.content.decode()
    assert not StaffRole.objects.filter(organisation=organisation).exists()


def test_a_link_of_another_organisations_invitation_gives_only_that_organisation(
    organisation, other_organisation
):
    # an invitation names its organisation: accepting it can never reach another one
    invitation = StaffInvitationFactory(organisation=other_organisation, email="ann@example.com")
    user = UserFactory(email="ann@example.com")
    client_of(user).post(accept_url(invitation))
    assert list(StaffRole.objects.filter(user=user).values_list("organisation", flat=True)) == [
        other_organisation.pk
    ]


# --- changing roles and removing people --------------------------------------------------------


def change(client, organisation, staff_role, role):
    return client.post(
        reverse("staff:team_role_change", args=[organisation.slug, staff_role.pk]),
        {f"r{staff_role.pk}-role": role},
        follow=True,
    )


def test_an_admin_changes_an_analyst_into_an_agent(staff_client, organisation):
    analyst = staff(organisation, Role.ANALYST)
    page = change(staff_client, organisation, analyst, Role.AGENT)
    analyst.refresh_from_db()
    assert analyst.role == Role.AGENT
    assert "is now Agent" in page.content.decode()


def test_an_admin_can_neither_make_nor_change_an_owner(staff_client, organisation):
    analyst = staff(organisation, Role.ANALYST)
    owner = staff(organisation, Role.OWNER)

    change(staff_client, organisation, analyst, Role.OWNER)
    change(staff_client, organisation, owner, Role.ANALYST)
    staff_client.post(reverse("staff:team_remove", args=[organisation.slug, owner.pk]))

    analyst.refresh_from_db()
    owner.refresh_from_db()
    assert (analyst.role, owner.role) == (Role.ANALYST, Role.OWNER)


def test_an_owner_makes_another_owner_who_can_then_demote_the_first(organisation):
    first = staff(organisation, Role.OWNER)
    second = staff(organisation, Role.ADMIN)

    change(client_of(first.user), organisation, second, Role.OWNER)
    second.refresh_from_db()
    assert second.role == Role.OWNER

    change(client_of(second.user), organisation, first, Role.ADMIN)
    first.refresh_from_db()
    assert first.role == Role.ADMIN


def test_nobody_changes_or_removes_themselves(organisation):
    owner = staff(organisation, Role.OWNER)
    staff(organisation, Role.OWNER)  # not the last owner: the rule is about oneself
    client = client_of(owner.user)

    page = change(client, organisation, owner, Role.ANALYST)
    assert "cannot change your own role" in page.content.decode()
    client.post(reverse("staff:team_remove", args=[organisation.slug, owner.pk]))

    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_the_last_owner_can_be_neither_demoted_nor_removed(organisation):
    owner = staff(organisation, Role.OWNER)
    other = UserFactory()
    with pytest.raises(ValidationError, match="last owner"):
        staff_role_change(staff_role=owner, role=Role.ADMIN, actor=other, actor_role=Role.OWNER)
    with pytest.raises(ValidationError, match="last owner"):
        staff_role_remove(staff_role=owner, actor=other, actor_role=Role.OWNER)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_an_admin_removes_an_analyst_who_then_sees_nothing(staff_client, organisation):
    analyst = staff(organisation, Role.ANALYST)
    page = staff_client.post(reverse("staff:team_remove", args=[organisation.slug, analyst.pk]))
    assert page.status_code == 302
    assert not StaffRole.objects.filter(pk=analyst.pk).exists()
    survey_list = reverse("staff:survey_list", args=[organisation.slug])
    assert client_of(analyst.user).get(survey_list).status_code == 404


def test_a_malformed_role_change_changes_nothing(staff_client, organisation):
    analyst = staff(organisation, Role.ANALYST)
    page = change(staff_client, organisation, analyst, "x" * 500)
    analyst.refresh_from_db()
    assert analyst.role == Role.ANALYST
    assert "Choose one of the roles" in page.content.decode()


# --- who may create an organisation -------------------------------------------------------


def test_under_invite_only_a_member_account_cannot_make_itself_an_organisation(settings):
    # given invite-only sign-up and an account that is nobody's staff (a member's)
    settings.ACCOUNT_SIGNUP = "invite-only"
    stranger = UserFactory(email="member@example.com")
    client = client_of(stranger)
    # when they open the staff home and try to create an organisation anyway
    page = client.get(reverse("staff_home")).content.decode()
    refused = client.post(reverse("staff_home"), {"name": "Mine", "slug": "mine"})
    # then the form is not offered, the post is refused and nothing is created
    assert "Create the organisation" not in page
    assert "Ask a colleague who runs Chorus to invite you" in page
    assert refused.status_code == 403
    assert not Organisation.objects.filter(slug="mine").exists()


@pytest.mark.parametrize("who", ["superuser", "staff elsewhere", "anyone, with open sign-up"])
def test_who_may_create_an_organisation(settings, organisation, who):
    settings.ACCOUNT_SIGNUP = "open" if who.startswith("anyone") else "invite-only"
    user = UserFactory(is_superuser=who == "superuser")
    if who == "staff elsewhere":
        StaffRoleFactory(user=user, organisation=organisation, role=Role.ANALYST)
    data = {"name": "New Co", "slug": "new-co", "default_language": "en"}
    response = client_of(user).post(reverse("staff_home"), data)
    assert response.status_code == 302
    assert Organisation.objects.get(slug="new-co").staff_roles.get().user == user
