"""A staff member browses the API documentation at /api/docs/ in Chromium (issue 17): Swagger
UI, served from this site, lists every operation of the schema, under the site's
Content-Security-Policy, with nothing asked of another host and no error in the console."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.test import Client
from playwright.sync_api import BrowserContext, Page, expect

from communities.choices import Role
from tests.e2e.conftest import assert_accessible, sign_in_as
from tests.e2e.test_csp import PolicyWatch
from tests.factories.communities import StaffRoleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def schema_operations() -> set[tuple[str, str]]:
    """(method, path) of every operation in the schema the docs page is given."""
    answer = Client().get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    paths = json.loads(answer.content)["paths"]
    return {(method, path) for path, item in paths.items() for method in item if method in METHODS}


def test_staff_member_browses_every_api_operation(
    page: Page, context: BrowserContext, live_server, organisation
):
    # given an analyst signed in on a desktop screen, and everything the browser does watched
    analyst = UserFactory()
    StaffRoleFactory(user=analyst, organisation=organisation, role=Role.ANALYST)
    sign_in_as(context, analyst, live_server)
    page.set_viewport_size(DESKTOP)
    policy = PolicyWatch()
    policy.attach(context)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    asked: list[str] = []
    context.on("request", lambda request: asked.append(request.url))
    expected = schema_operations()
    assert expected

    # when they open the API documentation
    page.goto("/api/docs/")

    # then the page's own heading is there, and every operation of the schema is listed
    expect(page.get_by_role("heading", name="API documentation")).to_be_visible()
    operations = page.locator("#swagger-ui .opblock")
    expect(operations).to_have_count(len(expected), timeout=20_000)
    shown = {
        (block.get_attribute("class").split("opblock-")[1].split()[0], path)
        for block in operations.all()
        for path in [block.locator("[data-path]").first.get_attribute("data-path")]
    }
    assert shown == expected
    # and nothing was refused, went wrong, or was fetched from anywhere but this site
    policy.assert_nothing_refused(page)
    assert not errors, errors
    ours = urlsplit(live_server.url).netloc
    elsewhere = [
        url
        for url in asked
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != ours
    ]
    assert not elsewhere, elsewhere
    # and the page's own parts pass axe-core (Swagger UI's inside is the library's)
    assert_accessible(page, exclude=["#swagger-ui"])


def test_operation_opens_with_its_parameters_and_answers(
    page: Page, context: BrowserContext, live_server, organisation
):
    # given an owner on the docs page
    owner = UserFactory()
    StaffRoleFactory(user=owner, organisation=organisation, role=Role.OWNER)
    sign_in_as(context, owner, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto("/api/docs/")

    # when they open the operation that lists communities
    block = page.locator("#swagger-ui .opblock").filter(
        has=page.locator('[data-path="/api/v1/{org}/communities/"]')
    )
    block.locator("button.opblock-summary-control").click()

    # then its parameters and its answers, errors included, are described
    expect(block.locator(".parameters-container")).to_contain_text("page_size")
    expect(block.locator(".responses-wrapper")).to_contain_text("200")
    expect(block.locator(".responses-wrapper")).to_contain_text("404")


def test_owner_tries_a_write_from_the_docs_page_as_themselves(
    page: Page, context: BrowserContext, live_server, organisation, community
):
    # given an owner on the docs page, signed in (no API key entered)
    owner = UserFactory()
    StaffRoleFactory(user=owner, organisation=organisation, role=Role.OWNER)
    sign_in_as(context, owner, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto("/api/docs/")
    block = page.locator("#swagger-ui .opblock.opblock-post").filter(
        has=page.locator('[data-path="/api/v1/{org}/communities/{id}/members/"]')
    )
    block.locator("button.opblock-summary-control").click()

    # when they try adding a member to their community, with the page's own form
    block.locator("button.try-out__btn").click()
    block.locator('tr[data-param-name="org"] input').fill(organisation.slug)
    block.locator('tr[data-param-name="id"] input').fill(str(community.pk))
    block.locator("textarea.body-param__text").fill(
        json.dumps({"email": "kim@example.com", "name": "Kim", "consent": True})
    )
    block.locator("button.execute").click()

    # then the site answers 201 (their session, with its CSRF token, was enough)
    status = block.locator(".live-responses-table .response .response-col_status")
    expect(status).to_have_text("201", timeout=10_000)
    assert community.members.filter(email="kim@example.com").exists()


def test_signed_out_visitor_is_sent_to_sign_in(page: Page, live_server):
    # when someone signed out opens the API documentation
    page.goto("/api/docs/")

    # then they land on the sign-in page, which brings them back afterwards
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/api/docs/")
    expect(page.locator("#swagger-ui")).to_have_count(0)
