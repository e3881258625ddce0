import pytest
from django.urls import reverse
from playwright.sync_api import Page

from communities.choices import Role
from communities.services import api_token_create
from tests.e2e.conftest import axe_violations, sign_in_as
from tests.e2e.test_staff_accessibility import label_in_name_violations
from tests.factories.communities import OrganisationFactory, StaffRoleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "he"])
def test_tmp(page: Page, context, live_server, language):
    org = OrganisationFactory()
    owner = UserFactory()
    StaffRoleFactory(user=owner, organisation=org, role=Role.OWNER)
    api_token_create(organisation=org, name="Helpdesk", scopes=["members:write", "rewards:read"])
    sign_in_as(context, owner, live_server)
    page.goto(live_server.url + reverse("staff:api_tokens", args=[org.slug]) + f"?lang={language}")
    found = axe_violations(page) + label_in_name_violations(page)
    # submit with nothing ticked, then check errors page too
    page.get_by_label("What will use this key?").fill("CRM") if language == "en" else None
    page.locator("form[novalidate] button.btn-primary").click()
    found += axe_violations(page) + label_in_name_violations(page)
    page.screenshot(path=f"/tmp/apikeys-{language}.png", full_page=True)
    assert not found, found
