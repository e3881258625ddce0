"""Owners and admins make API keys for their other systems; a key is shown once."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from communities.choices import Role
from communities.forms.staff import ApiTokenForm
from communities.models import ApiToken, AuditEntry
from communities.models.organisations import API_AREAS, API_SCOPES
from communities.services import api_token_authenticate, api_token_create
from tests.factories.communities import StaffRoleFactory

pytestmark = pytest.mark.django_db


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(staff_client, organisation):
    # when
    page = staff_client.post(
        reverse("staff:api_tokens", args=[organisation.slug]),
        {"name": "Zendesk", "scopes": ["surveys:write"]},
    )
    # then
    key = page.context["new_key"]
    assert page.status_code == 200 and key in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    assert key not in (token.key_hash, token.prefix) and key.startswith(token.prefix)
    assert api_token_authenticate(key=key) == token
    # and the list never shows it again
    assert (
        key
        not in staff_client.get(
            reverse("staff:api_tokens", args=[organisation.slug])
        ).content.decode()
    )


def test_a_revoked_key_stops_working(staff_client, organisation):
    url = reverse("staff:api_tokens", args=[organisation.slug])
    staff_client.post(url, {"name": "Shop", "scopes": ["rewards:read"]})
    token = ApiToken.objects.get()
    key_page = staff_client.post(url, {"name": "x", "scopes": ["rewards:read"]})
    staff_client.post(reverse("staff:api_token_revoke", args=[organisation.slug, token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(key=key_page.context["new_key"]) is not None


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_key_needs_a_sensible_name(staff_client, organisation, name):
    page = staff_client.post(
        reverse("staff:api_tokens", args=[organisation.slug]),
        {"name": name, "scopes": ["members:read"]},
    )
    assert page.status_code == 400 and "name" in page.context["form"].errors
    assert not ApiToken.objects.exists()


def test_analysts_and_agents_cannot_manage_keys(client, organisation):
    for role in (Role.ANALYST, Role.AGENT):
        user = StaffRoleFactory(organisation=organisation, role=role).user
        client.force_login(user)
        assert client.get(reverse("staff:api_tokens", args=[organisation.slug])).status_code == 403


# --- scopes ---------------------------------------------------------------------------------


def test_a_key_gets_the_scopes_ticked_write_bringing_its_read_and_the_list_shows_them(
    staff_client, organisation
):
    # when
    url = reverse("staff:api_tokens", args=[organisation.slug])
    page = staff_client.post(url, {"name": "CRM", "scopes": ["members:write", "rewards:read"]})
    # then
    token = ApiToken.objects.get()
    assert page.status_code == 200
    assert token.scopes == ["members:read", "members:write", "rewards:read"]
    listed = staff_client.get(url)
    labels = ["Communities and members: read and write", "Rewards: read"]
    assert listed.context["tokens"][0].scope_labels == labels
    assert all(label in listed.content.decode() for label in labels)
    # and the audit log says what the key may do
    entry = AuditEntry.objects.get(action="api_token.create")
    assert entry.changes == {"scopes": [None, "members:read, members:write, rewards:read"]}


@pytest.mark.parametrize("scopes", [[], ["members:admin"]])
def test_a_key_needs_a_known_scope(staff_client, organisation, scopes):
    page = staff_client.post(
        reverse("staff:api_tokens", args=[organisation.slug]), {"name": "CRM", "scopes": scopes}
    )
    assert page.status_code == 400 and "scopes" in page.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_form_offers_read_and_write_for_every_area(staff_client, organisation):
    page = staff_client.get(reverse("staff:api_tokens", args=[organisation.slug]))
    html = page.content.decode()
    for scope in API_SCOPES:
        assert f'value="{scope}"' in html, scope
    assert set(ApiTokenForm.AREA_LABELS) == set(API_AREAS)


def test_the_service_refuses_no_scope_and_unknown_ones_and_gives_every_scope_by_default(
    organisation,
):
    for scopes in ([], ["cases:delete"]):
        with pytest.raises(ValidationError) as refused:
            api_token_create(organisation=organisation, name="x", scopes=scopes)
        assert "scopes" in refused.value.message_dict
    token, _key = api_token_create(organisation=organisation, name="all")
    assert token.scopes == sorted(API_SCOPES)
