"""An owner builds a follow-up rule in the browser — CSAT ≤ 2 at the Siam store opens a case
for the store's team, taken in turn, and emails the respondent in Thai — tests it on past
answers, saves it; then a Thai customer's unhappy answer gets the case and the email
(through a real SMTP conversation with the local sink). The pages pass axe in English
and Hebrew."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest
from playwright.sync_api import Page, expect

from communities.choices import Role
from feedback.models import Case, FollowUpRule
from surveys.choices import QuestionType
from surveys.services import question_add, response_submit
from tests.e2e.conftest import assert_accessible, sign_in_as, text_of
from tests.factories.communities import (
    ConsentRecordFactory,
    LocationFactory,
    MemberFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.feedback import TeamFactory
from tests.surveys.helpers import answers_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


def answer(survey, csat, face, *, location, member=None, language="en"):
    data = answers_for(survey, nps=9, stars=5)
    data[f"q_{csat.pk}"] = face
    return response_submit(
        survey=survey,
        raw_answers=data,
        idempotency_key=data.pop("idempotency_key"),
        member=member,
        location=location,
        language=language,
        consent_to_contact=member is not None,
    ).response


def thai_customer(community, email):
    member = MemberFactory(community=community, email=email, name="สมชาย")
    ConsentRecordFactory(member=member, policy_version=community.policy_version)
    return member


@pytest.fixture
def store(organisation, survey, community):
    """The Siam store, its team of two agents, and two past answers there (one unhappy)."""
    owner = UserFactory(email="owner@example.com", name="Olive Owner")
    StaffRoleFactory(user=owner, organisation=organisation, role=Role.OWNER)
    agents = []
    for name in ("Anong", "Boon"):
        user = UserFactory(name=name)
        StaffRoleFactory(user=user, organisation=organisation, role=Role.AGENT)
        agents.append(user)
    siam = LocationFactory(organisation=organisation, name="Siam")
    team = TeamFactory(organisation=organisation, name="Siam team")
    team.members.add(*agents)
    csat = question_add(survey=survey, type=QuestionType.CSAT, text={"en": "Happy?"})
    answer(survey, csat, 1, location=siam)
    answer(survey, csat, 5, location=siam)
    return {"owner": owner, "siam": siam, "team": team, "agents": agents, "csat": csat}


def test_owner_builds_tests_and_saves_a_store_rule_that_then_routes_a_thai_complaint(
    page: Page, context, live_server, inbox, organisation, survey, community, store
):
    # given: the owner at their desk, on the rules page from the staff navigation
    sign_in_as(context, store["owner"], live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/staff/{organisation.slug}/rules/")
    expect(page.get_by_role("heading", name="Follow-up rules")).to_be_visible()
    assert_accessible(page)

    # when: they build the rule
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill("Siam unhappy CSAT")
    page.get_by_label("Stores").select_option(label="Siam")
    page.locator("[name=c1_kind]").select_option("score")
    page.locator("[name=c1_score]").select_option("csat")
    page.locator("[name=c1_max]").fill("2")
    page.get_by_label("Team").select_option(label="Siam team")
    page.get_by_label("Assign to").select_option("round_robin")
    page.get_by_label("Email the respondent").check()
    page.get_by_label("Subject (Thai)").fill("ขออภัยค่ะ คุณ{{ name }}")
    page.get_by_label("Text (Thai)").fill("สาขา {{ location_name }} จะติดต่อกลับค่ะ")
    assert_accessible(page)

    # and test it on the past answers
    page.get_by_role("button", name="Test this rule on the last 200 responses").click()

    # then: the one unhappy answer matches, for the Siam team, and nothing was saved
    expect(page.get_by_text("The rule matches 1 of the last 2 responses.")).to_be_visible()
    expect(page.locator("#test-results tbody tr")).to_have_count(1)
    expect(page.locator("#test-results tbody tr")).to_contain_text("Siam team")
    assert not FollowUpRule.objects.exists()
    assert_accessible(page)

    # when: they preview the Thai email, then save the rule
    page.get_by_role("button", name="Preview the email").click()
    expect(page.locator("#email-preview")).to_contain_text("สาขา Siam จะติดต่อกลับค่ะ")
    page.get_by_role("button", name="Add the rule").click()

    # then: the rule is listed
    expect(page.get_by_text("Rule “Siam unhappy CSAT” added.")).to_be_visible()
    rules_table = page.get_by_role("table").filter(has_text="Order")
    expect(rules_table.get_by_role("row").filter(has_text="Siam unhappy CSAT")).to_contain_text(
        "Open a case"
    )
    assert_accessible(page)

    # when: a Thai customer who may be contacted gives Siam an unhappy face
    customer = thai_customer(community, "somchai@example.com")
    response = answer(
        survey, store["csat"], 1, location=store["siam"], member=customer, language="th"
    )

    # then: the case is the Siam team's, given to its first member in turn
    case = Case.objects.get(response=response)
    assert case.team == store["team"]
    assert case.assignee in store["agents"]
    # and the email in Thai reaches the customer
    [email] = inbox.wait_for("somchai@example.com")
    subject = str(make_header(decode_header(email["Subject"])))
    assert subject == "ขออภัยค่ะ คุณสมชาย"
    assert "สาขา Siam จะติดต่อกลับค่ะ" in text_of(email)


def test_the_rules_pages_pass_axe_in_hebrew(
    page: Page, context, live_server, organisation, survey, store
):
    from tests.factories.feedback import FollowUpRuleFactory

    rule = FollowUpRuleFactory(organisation=organisation, name="כלל")
    store["owner"].locale = "he"
    store["owner"].save(update_fields=["locale"])
    sign_in_as(context, store["owner"], live_server)
    page.set_viewport_size(DESKTOP)
    for path in ("", "new/", f"{rule.pk}/"):
        page.goto(f"/staff/{organisation.slug}/rules/{path}")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        assert_accessible(page)
