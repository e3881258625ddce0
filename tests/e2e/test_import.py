"""Staff import members from a CSV file with some bad rows, in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from communities.choices import AttributeKind, Role
from communities.models import ConsentRecord, Member
from tests.e2e.conftest import sign_in_as
from tests.factories.communities import (
    AttributeDefinitionFactory,
    CommunityFactory,
    MemberFactory,
    StaffRoleFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSV = (
    "email,name,language,age\n"
    "ann@example.com,Ann Lee,th,31\n"
    "not-an-email,Bob,en,40\n"
    "cy@example.com,Cy,en,forty\n"
    "old@example.com,Old Timer,en,50\n"
    "dee@example.com,Dee,ja,22\n"
    "ANN@example.com,Ann twice,en,31\n"
)


def test_staff_upload_a_csv_see_each_bad_row_confirm_and_find_the_members(
    page: Page, context, live_server, organisation
):
    # given an admin of a community with an "age" attribute and one member already
    admin = StaffRoleFactory(organisation=organisation, role=Role.ADMIN).user
    community = CommunityFactory(organisation=organisation, name="Coffee Club")
    AttributeDefinitionFactory(
        community=community, key="age", kind=AttributeKind.NUMBER, label={"en": "Age"}
    )
    MemberFactory(community=community, email="old@example.com")
    sign_in_as(context, admin, live_server)

    # when they open the import page, choose the file, confirm consent and upload
    page.goto(f"/staff/{organisation.slug}/communities/{community.pk}/members/import/")
    page.get_by_label("CSV file").set_input_files(
        {"name": "members.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.get_by_label("Everyone in this file agreed to join").check()
    page.get_by_role("button", name="Upload and check").click()

    # then the report shows each bad row with its column and reason
    errors = page.locator("#import-errors")
    expect(errors).to_be_visible()
    expect(errors.locator("tr", has_text="not-an-email")).to_contain_text(
        "Enter a valid email address."
    )
    expect(errors.locator("tr", has_text="forty")).to_contain_text("Enter a number.")
    expect(errors.locator("tr", has_text="old@example.com")).to_contain_text("already a member")
    expect(errors.locator("tr", has_text="ann@example.com")).to_contain_text("also on row 2")
    # and the preview shows the good rows, nothing is imported yet
    expect(page.locator("#import-preview")).to_contain_text("Ann Lee")
    expect(page.locator("#import-preview")).to_contain_text("dee@example.com")
    assert not Member.objects.filter(email="ann@example.com").exists()

    # when they confirm
    page.get_by_role("button", name="Import 2 members").click()

    # then the import is done, and the members are listed
    expect(page.locator("#import-status")).to_have_text("Imported")
    page.get_by_role("link", name="See the members").click()
    expect(page.get_by_text("3 members match")).to_be_visible()
    expect(page.get_by_role("cell", name="ann@example.com")).to_be_visible()
    expect(page.get_by_role("cell", name="dee@example.com")).to_be_visible()
    assert ConsentRecord.objects.filter(member__community=community, channel="import").count() == 2
