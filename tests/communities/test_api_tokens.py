"""Owners and admins make API keys for their other systems; a key is shown once."""

import pytest
from django.urls import reverse

from communities.choices import Role
from communities.models import ApiToken
from communities.services import api_token_authenticate
from tests.factories.communities import StaffRoleFactory

pytestmark = pytest.mark.django_db


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(staff_client, organisation):
    # when
    page = staff_client.post(
        reverse("staff:api_tokens", args=[organisation.slug]), {"name": "Zendesk"}
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
    staff_client.post(reverse("staff:api_tokens", args=[organisation.slug]), {"name": "Shop"})
    token = ApiToken.objects.get()
    key_page = staff_client.post(
        reverse("staff:api_tokens", args=[organisation.slug]), {"name": "x"}
    )
    staff_client.post(reverse("staff:api_token_revoke", args=[organisation.slug, token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(key=key_page.context["new_key"]) is not None


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_key_needs_a_sensible_name(staff_client, organisation, name):
    page = staff_client.post(reverse("staff:api_tokens", args=[organisation.slug]), {"name": name})
    assert page.status_code == 400 and "name" in page.context["form"].errors
    assert not ApiToken.objects.exists()


def test_analysts_and_agents_cannot_manage_keys(client, organisation):
    for role in (Role.ANALYST, Role.AGENT):
        user = StaffRoleFactory(organisation=organisation, role=role).user
        client.force_login(user)
        assert client.get(reverse("staff:api_tokens", args=[organisation.slug])).status_code == 403
