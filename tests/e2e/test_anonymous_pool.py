"""A member answers an anonymous survey in a real browser: thanked at once, told their points
follow, and staff see the answer only when it is released among others."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from rewards.selectors import member_balance
from surveys.models import PooledAnswer, Response
from surveys.services.responses import response_submit
from tests.e2e.conftest import sign_in_as
from tests.e2e.survey_page import answer_every_question, send
from tests.factories.communities import ConsentRecordFactory, MemberFactory, UserFactory
from tests.surveys.helpers import answers_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def anonymous_survey(survey):
    survey.anonymity = "anonymous"
    survey.anonymous_points = True
    survey.points = 20
    survey.save()
    return survey


def other_members_answer(survey, community, n: int) -> None:
    for i in range(n):
        user = UserFactory(email=f"other{i}@example.com")
        member = MemberFactory(community=community, user=user, email=user.email)
        ConsentRecordFactory(member=member, policy_version=community.policy_version)
        data = answers_for(survey, nps=3)
        key = data.pop("idempotency_key")
        response_submit(survey=survey, raw_answers=data, idempotency_key=key, member=member)


def test_a_members_anonymous_answer_waits_in_the_pool_and_is_released_among_others(
    member_page: Page,
    context: BrowserContext,
    live_server,
    anonymous_survey,
    community,
    member,
    staff_user,
):
    # when the member answers in Hebrew
    page = member_page
    page.goto(f"/s/{anonymous_survey.public_id}/?lang=he")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    answer_every_question(page, anonymous_survey, language="he")
    send(page, "he")
    # then they are thanked at once and told, in Hebrew, that their points follow
    expect(page.get_by_text("הנקודות שלך יתווספו כשהתשובה האנונימית שלך תשוחרר")).to_be_visible()
    assert PooledAnswer.objects.count() == 1 and not Response.objects.exists()
    assert member_balance(member=member) == 0

    # and staff see a waiting answer as a number, not as a response
    staff = context.new_page()
    sign_in_as(context, staff_user, live_server)
    results = f"/staff/{anonymous_survey.organisation.slug}/surveys/{anonymous_survey.pk}/"
    staff.goto(results)
    expect(staff.locator("#stat-pooled")).to_contain_text("1 anonymous answer is waiting")
    expect(staff.locator("#stat-responses")).to_have_text("0")

    # when four more members answer, the batch of five is released
    other_members_answer(anonymous_survey, community, 4)
    staff.reload()
    # then every answer counts, none is waiting, and the member got their points
    expect(staff.locator("#stat-responses")).to_have_text("5")
    expect(staff.locator("#stat-pooled")).to_have_count(0)
    assert member_balance(member=member) == 20
    assert Response.objects.filter(member__isnull=False).count() == 0
