"""/api/docs/: the browsable API documentation, for staff of any organisation only."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from communities.choices import Role
from tests.factories.communities import OrganisationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

DOCS = "/api/docs/"


def test_docs_page_lives_at_api_docs() -> None:
    assert reverse("api_docs") == DOCS


@pytest.mark.parametrize("role", Role.values)
def test_every_staff_role_may_read_the_api_docs(client: Client, organisation, role) -> None:
    # given a staff member of any role
    user = UserFactory()
    StaffRoleFactory(user=user, organisation=organisation, role=role)
    client.force_login(user)

    # when they open the docs
    page = client.get(DOCS)

    # then the page loads Swagger UI from this site over this site's schema
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-schema-url="/api/schema/?format=json"' in html
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/js/api-docs.js" in html
    assert "//cdn" not in html and "unpkg" not in html


def test_signed_out_visitor_is_sent_to_sign_in(client: Client) -> None:
    # when someone signed out opens the docs
    page = client.get(DOCS)

    # then they are asked to sign in, and come back here after
    assert page.status_code == 302
    assert page["Location"] == f"{reverse('account_login')}?next={DOCS}"


def test_member_without_a_staff_role_is_told_the_page_does_not_exist(
    member_client: Client,
) -> None:
    # when a community member (signed in, no staff role anywhere) opens the docs
    page = member_client.get(DOCS)

    # then it is not found, as a staff page of an organisation they are not in
    assert page.status_code == 404


def test_docs_list_only_my_organisations_and_link_keys_where_i_manage(
    client: Client, organisation, other_organisation
) -> None:
    # given an analyst of one organisation and an admin of a second; a third is not theirs
    user = UserFactory()
    StaffRoleFactory(user=user, organisation=organisation, role=Role.ANALYST)
    StaffRoleFactory(user=user, organisation=other_organisation, role=Role.ADMIN)
    stranger = OrganisationFactory(name="Stranger Ltd", slug="stranger")
    client.force_login(user)

    # when they open the docs
    html = client.get(DOCS).content.decode()

    # then each of their organisations is listed with the slug its paths take
    assert f"<code>{organisation.slug}</code>" in html
    assert f"<code>{other_organisation.slug}</code>" in html
    assert stranger.slug not in html
    # and the keys page is linked only where their role manages keys
    assert reverse("staff:api_tokens", args=[other_organisation.slug]) in html
    assert reverse("staff:api_tokens", args=[organisation.slug]) not in html


@pytest.mark.parametrize(("language", "direction"), [("he", "rtl"), ("ja", "ltr")])
def test_docs_page_speaks_the_staff_members_language(
    client: Client, organisation, language, direction
) -> None:
    # given a staff member who chose Hebrew or Japanese in the staff navigation
    user = UserFactory()
    StaffRoleFactory(user=user, organisation=organisation, role=Role.ANALYST)
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    # when they open the docs
    html = client.get(DOCS).content.decode()

    # then the page is in their language and direction; the schema's English is marked so
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert 'id="swagger-ui" lang="en" dir="ltr"' in html


def test_docs_page_answers_in_a_fixed_number_of_queries(
    client: Client, organisation, other_organisation, django_assert_max_num_queries
) -> None:
    # given a staff member of two organisations
    user = UserFactory()
    StaffRoleFactory(user=user, organisation=organisation, role=Role.OWNER)
    StaffRoleFactory(user=user, organisation=other_organisation, role=Role.AGENT)
    client.force_login(user)

    # then the page costs the session, the user and one query for their roles
    with django_assert_max_num_queries(6):
        assert client.get(DOCS).status_code == 200
