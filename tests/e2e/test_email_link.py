"""Staff email a survey; the guest answers it from the personal link in that email.

The email leaves through a real SMTP conversation with a local sink (aiosmtpd), and the
guest opens the link the sink received, in a browser of their own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import Message
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from communities.choices import Role
from surveys.choices import QuestionType
from surveys.models import Response, SurveyInvitation
from surveys.services import invitation_batch_create
from tests.e2e.conftest import PHONE, text_of
from tests.e2e.survey_page import answer_every_question, question, send
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.surveys.helpers import question_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GUEST = "guest@example.com"
THANKS = "Thank you!"
ALREADY_ANSWERED = "You have already answered this survey. Thank you!"
NOT_VALID = "This link is not valid. Please use the link from your email as it is."


@pytest.fixture
def guest_page(browser: Browser, live_server) -> Iterator[Page]:
    """The guest's own phone: a browser profile that shares nothing with the staff's."""
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def owner(organisation):
    user = UserFactory(email="owner@example.com")
    StaffRoleFactory(user=user, organisation=organisation, role=Role.OWNER)
    return user


def score_link(message: Message, score: int) -> str:
    """The link beside `score` in the email's "0: <link>" … "10: <link>" lines."""
    found = re.search(rf"^{score}: (\S+)$", text_of(message), re.MULTILINE)
    assert found, text_of(message)
    return found.group(1)


def batch_figure(page: Page, label: str):
    """The figure the staff batch page shows beside `label` ("Opened", "Answered", …)."""
    term = page.get_by_role("term").filter(has_text=re.compile(rf"^{label}$"))
    return term.locator("xpath=following-sibling::dd[1]")


def test_guest_answers_from_the_score_they_tap_in_the_email_and_the_link_then_closes(
    page: Page, guest_page: Page, live_server, inbox, survey, owner
):
    # given: the owner signs in at their desk and opens the survey's Distribute page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name="Surveys").click()
    page.get_by_role("row").filter(has_text=survey.title["en"]).get_by_role(
        "link", name="Edit"
    ).click()
    page.get_by_role("link", name="Distribute").click()
    expect(page.get_by_role("heading", name="Distribute")).to_be_visible()

    # when: they paste one guest and send
    page.get_by_label("Or these people, one per line: email, name").fill("guest@example.com, Guest")
    page.get_by_role("button", name="Send the survey").click()

    # then: the send is done, and exactly one email reached the guest's mailbox
    expect(page.get_by_role("heading", name="Email send")).to_contain_text("Done")
    expect(batch_figure(page, "Emails sent")).to_have_text("1")
    assert len(inbox.wait_for(GUEST)) == 1
    time.sleep(0.5)  # a second copy would arrive right behind the first
    [email] = inbox.to(GUEST)
    assert email["Subject"] == "Demo Coffee would like your opinion"
    unsubscribe = "".join(email["List-Unsubscribe"].split())  # unfold the long header
    assert unsubscribe.startswith(f"<{live_server.url}/u/")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hello Guest," in text_of(email)
    invitation = SurveyInvitation.objects.get(email=GUEST)

    # when: on their phone, the guest taps 3 in the email
    link = score_link(email, 3)
    nps_question = question_of(survey, QuestionType.NPS)
    assert link.startswith(f"{live_server.url}/i/")
    assert link.endswith(f"/?q={nps_question.pk}&score=3")
    guest_page.goto(link)

    # then: the survey shows with 3 already chosen, and the address bar holds no token
    expect(guest_page).to_have_url(f"{live_server.url}/s/{survey.public_id}/")
    token = urlsplit(link).path.split("/")[2]
    assert token not in guest_page.url
    nps = question(guest_page, question_of(survey, QuestionType.NPS).text_for("en"))
    expect(nps.get_by_role("radio", name="3", exact=True)).to_be_checked()
    # and the owner, reloading the send's page, sees it opened but not yet answered
    page.reload()
    expect(batch_figure(page, "Opened")).to_have_text("1")
    expect(batch_figure(page, "Answered")).to_have_text("0")

    # when: the guest answers the other questions and sends
    answer_every_question(guest_page, survey, nps=None)
    send(guest_page)

    # then: one response, from this invitation, with the score they tapped
    expect(guest_page.get_by_role("heading", name=THANKS)).to_be_visible()
    response = Response.objects.get()
    assert response.invitation == invitation
    assert response.answers.get(question_type=QuestionType.NPS).number == 3
    assert response.answers.count() == 5
    invitation.refresh_from_db()
    assert invitation.opened_at is not None and invitation.responded_at is not None
    # and the owner's page counts the answer after a reload
    page.reload()
    expect(batch_figure(page, "Answered")).to_have_text("1")

    # when: the guest taps the same link in the email again
    again = guest_page.goto(link)

    # then: the link is used up; nothing more is stored
    assert again.status == 409
    expect(guest_page.get_by_text(ALREADY_ANSWERED)).to_be_visible()
    expect(guest_page.get_by_role("button", name="Send my answers")).to_have_count(0)
    assert Response.objects.count() == 1


def test_a_link_cut_short_on_copying_is_refused_and_the_real_one_still_works(
    guest_page: Page, live_server, inbox, survey, staff_user
):
    # given: a guest was emailed the survey
    invitation_batch_create(survey=survey, created_by=staff_user, recipients=[(GUEST, "")])
    [email] = inbox.wait_for(GUEST)
    link = re.search(r"^Answer the survey: (\S+)$", text_of(email), re.MULTILINE).group(1)
    assert link.endswith("/")

    # when: they paste the link, but the last few characters did not come along
    shown = guest_page.goto(link[:-6] + "/")

    # then: a clear page, no survey, and the invitation is not marked as opened
    assert shown.status == 400
    expect(guest_page.get_by_text(NOT_VALID)).to_be_visible()
    expect(guest_page.get_by_role("button", name="Send my answers")).to_have_count(0)
    assert SurveyInvitation.objects.get(email=GUEST).opened_at is None

    # when: they open the link exactly as it came in the email
    guest_page.goto(link)

    # then: the survey is there for them
    expect(guest_page).to_have_url(f"{live_server.url}/s/{survey.public_id}/")
    expect(guest_page.get_by_role("button", name="Send my answers")).to_be_visible()
    assert SurveyInvitation.objects.get(email=GUEST).opened_at is not None
