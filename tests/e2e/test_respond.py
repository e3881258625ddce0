"""A person answers a survey in a real browser, on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from django.core.signals import request_started
from playwright.sync_api import BrowserContext, Locator, Page, expect

from communities.outbox.models import OutboundEmail
from feedback.models import Case
from rewards.selectors import member_balance
from surveys.choices import QuestionType, SurveyStatus
from surveys.models import Response
from tests.e2e.survey_page import (
    CONSENT,
    SEND,
    answer_every_question,
    choose,
    question,
    send,
    shown,
    tick,
    write,
)
from tests.surveys.helpers import question_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

THANKS = "Thank you!"


def link(survey, language: str | None = None) -> str:
    return f"/s/{survey.public_id}/" + (f"?lang={language}" if language else "")


def test_member_signs_in_answers_everything_and_earns_the_points(page: Page, survey, member):
    # given: the member signs in from the link in their invitation
    page.goto(f"/accounts/login/?next={link(survey)}")
    page.get_by_label("Email").fill("member@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("You are answering as member@example.com.")).to_be_visible()
    # when
    answer_every_question(page, survey)
    tick(page, CONSENT)
    send(page)
    # then
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    expect(page.get_by_text(f"You earned {survey.points} points.")).to_be_visible()
    response = Response.objects.get()
    assert response.member == member
    assert response.consent_to_contact is True
    assert response.answers.count() == 5
    nps = response.answers.get(question_type=QuestionType.NPS)
    assert nps.number == 9
    assert member_balance(member=member) == survey.points


def test_tapping_send_twice_on_a_slow_connection_stores_one_response(
    context: BrowserContext, member_page: Page, survey, member
):
    # given: a phone on a slow connection, so the first tap seems to do nothing
    page = member_page
    page.goto(link(survey))
    answer_every_question(page, survey)
    network = context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 500, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    # The browser drops the first navigation when the second tap starts another, so only
    # the server can tell that both sends arrived.
    posts_received: list[str] = []

    def count_posts(sender, environ, **kwargs):
        if environ["REQUEST_METHOD"] == "POST":
            posts_received.append(environ["PATH_INFO"])

    request_started.connect(count_posts)
    try:
        # when: the person taps the send button, then taps it again. A raw mouse tap,
        # because locator.click() would politely wait for the first send to finish.
        button = page.get_by_role("button", name=SEND)
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        with page.expect_request(lambda request: request.method == "POST"):
            page.mouse.click(x, y)
        page.wait_for_timeout(100)
        page.mouse.click(x, y)
        expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    finally:
        request_started.disconnect(count_posts)
    # then: both sends reached the server, and it kept one
    assert posts_received == [link(survey)] * 2
    assert Response.objects.count() == 1
    assert member_balance(member=member) == survey.points


def test_going_back_and_sending_again_stores_one_response(member_page: Page, survey, member):
    # given
    page = member_page
    page.goto(link(survey))
    answer_every_question(page, survey)
    send(page)
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    # when: the person presses Back
    page.go_back()
    # then: they are told they have answered, with no form to fill in again
    expect(page.get_by_text("You have already answered this survey. Thank you!")).to_be_visible()
    expect(page.get_by_role("button", name=SEND)).to_have_count(0)
    assert Response.objects.count() == 1
    assert member_balance(member=member) == survey.points


def test_anonymous_visitor_going_back_and_sending_again_stores_one_response(page: Page, survey):
    # given
    page.goto(link(survey))
    answer_every_question(page, survey)
    send(page)
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    # when
    page.go_back()
    # then: this browser's answer is known, so the page says so instead of the form
    expect(page.get_by_text("You have already answered this survey. Thank you!")).to_be_visible()
    expect(page.get_by_role("button", name=SEND)).to_have_count(0)
    assert Response.objects.count() == 1


def test_unanswered_required_question_is_marked_and_other_answers_are_kept(
    member_page: Page, survey
):
    # given: everything answered except "How likely are you to recommend us?"
    page = member_page
    page.goto(link(survey))
    choose(page, "Rate your visit", "4 stars")
    choose(page, "Why did you come?", "Cake")
    choose(page, "What did you like?", "Coffee")
    choose(page, "What did you like?", "Wi-Fi")
    write(page, "Anything else?", "The cake was great.")
    tick(page, CONSENT)
    # when
    send(page)
    # then: the message sits with that question, and nothing else is lost
    expect(page.get_by_role("alert")).to_contain_text("Please check the answers marked below.")
    nps = question(page, "How likely are you to recommend us?")
    expect(nps).to_contain_text("Please answer this question.")
    expect(nps).to_have_accessible_description("Please answer this question.")
    expect(page.get_by_text("Please answer this question.")).to_have_count(1)
    expect(
        question(page, "Rate your visit").get_by_role("radio", name="4 stars", exact=True)
    ).to_be_checked()
    expect(question(page, "Why did you come?").get_by_label("Cake")).to_be_checked()
    liked = question(page, "What did you like?")
    expect(liked.get_by_label("Coffee")).to_be_checked()
    expect(liked.get_by_label("Cake")).not_to_be_checked()
    expect(liked.get_by_label("Wi-Fi")).to_be_checked()
    expect(page.get_by_label("Anything else?")).to_have_value("The cake was great.")
    expect(page.get_by_label(CONSENT)).to_be_checked()
    assert not Response.objects.exists()

    # when: the person answers the question they missed
    choose(page, "How likely are you to recommend us?", "8")
    send(page)
    # then
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    response = Response.objects.get()
    assert response.answers.count() == 5
    assert response.consent_to_contact is True


@pytest.mark.parametrize(
    ("language", "direction"), [("en", "ltr"), ("th", "ltr"), ("he", "rtl"), ("ja", "ltr")]
)
def test_survey_is_shown_and_answered_in_the_language_of_the_link(
    page: Page, survey, language, direction
):
    # when
    page.goto(link(survey, language))
    # then: the questions, the page language and the reading direction follow the link
    expect(page.locator(".question-text")).to_contain_text(
        [asked.text_for(language) for asked in survey.questions.all()]
    )
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    form = page.locator("form")
    assert form.evaluate("form => getComputedStyle(form).direction") == direction
    nps = question(page, question_of(survey, QuestionType.NPS).text_for(language))
    zero = nps.locator("label").filter(has_text=re.compile(r"^0$")).bounding_box()
    one = nps.locator("label").filter(has_text=re.compile(r"^1$")).bounding_box()
    reads_left_to_right = zero["x"] < one["x"]
    assert reads_left_to_right == (direction == "ltr")
    page.screenshot(path=f"/tmp/chorus-survey-{language}.png", full_page=True)

    # when
    answer_every_question(page, survey, language=language)
    send(page, language)
    # then
    expect(page.get_by_role("heading", name=shown(language, THANKS))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert Response.objects.get().language == language


def tab_to(page: Page, target: Locator, *, presses: int = 15) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves down the page."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{target} never got the focus after {presses} presses of Tab")


def focus_ring(radio: Locator) -> str:
    """The outline a sighted keyboard user sees around the button of a focused radio."""
    return radio.evaluate(
        "radio => { const s = getComputedStyle(radio.closest('label'));"
        " return `${s.outlineStyle} ${s.outlineWidth}`; }"
    )


def test_keyboard_user_answers_and_sends_without_a_mouse(member_page: Page, survey):
    # given
    page = member_page
    page.goto(link(survey))
    nps = question(page, "How likely are you to recommend us?")
    stars = question(page, "Rate your visit")
    why = question(page, "Why did you come?")
    liked = question(page, "What did you like?")

    # when: Tab reaches the first scale, and the arrow keys move along it
    tab_to(page, nps.get_by_label("0", exact=True))
    # then: the focused button carries a visible ring
    assert focus_ring(nps.get_by_label("0", exact=True)) == "solid 3px"
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    expect(nps.get_by_label("9", exact=True)).to_be_focused()
    expect(nps.get_by_label("9", exact=True)).to_be_checked()
    assert focus_ring(nps.get_by_label("9", exact=True)) == "solid 3px"

    # when: one Tab per question, Space to pick, typing in the box
    page.keyboard.press("Tab")
    expect(stars.get_by_role("radio", name="1 star", exact=True)).to_be_focused()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    expect(why.get_by_label("Coffee")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(liked.get_by_label("Coffee")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Anything else?")).to_be_focused()
    page.keyboard.type("Quick and kind.")
    page.keyboard.press("Tab")
    expect(page.get_by_label(CONSENT)).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=SEND)).to_be_focused()
    page.keyboard.press("Enter")

    # then
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    response = Response.objects.get()
    answers = {a.question_type: a for a in response.answers.prefetch_related("choices")}

    def chosen(qtype: str) -> list[str]:
        return sorted(choice.label["en"] for choice in answers[qtype].choices.all())

    assert answers[QuestionType.NPS].number == 9
    assert answers[QuestionType.STAR].number == 4
    assert chosen(QuestionType.SINGLE_CHOICE) == ["Coffee"]
    assert chosen(QuestionType.MULTI_CHOICE) == ["Cake", "Coffee"]
    assert answers[QuestionType.TEXT].text == "Quick and kind."
    assert response.consent_to_contact is True


def test_detractor_who_agrees_to_contact_gets_a_followup_email(
    member_page: Page, survey, member, mailoutbox
):
    # given
    page = member_page
    page.goto(link(survey))
    # when
    answer_every_question(page, survey, nps=2, stars=3, text="")
    tick(page, CONSENT)
    send(page)
    # then
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    case = Case.objects.get()
    assert case.response.member == member
    assert "NPS 2" in case.reason
    email = OutboundEmail.objects.get(to_email=member.email)
    assert email.template == "followup"
    assert email.status == "sent"
    assert [m.to for m in mailoutbox] == [[member.email]]


def test_closed_survey_shows_a_friendly_page(page: Page, survey):
    # given
    survey.status = SurveyStatus.CLOSED
    survey.save()
    # when
    shown = page.goto(link(survey))
    # then
    assert shown.status == 410
    expect(page.get_by_role("heading")).to_have_text(
        "This survey has closed. Thank you for your interest."
    )
    expect(page.get_by_role("button", name=SEND)).to_have_count(0)


def test_survey_pages_load_nothing_from_another_host(page: Page, live_server, survey):
    # given
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    # when: the person reads the survey in two languages, answers and sends it
    page.goto(link(survey, "he"))
    page.goto(link(survey, "en"))
    answer_every_question(page, survey)
    send(page)
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    # then
    assert len(requested) > 4
    elsewhere = [url for url in requested if not url.startswith(f"{live_server.url}/")]
    assert elsewhere == []
