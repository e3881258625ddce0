"""Walk-in customers answer on a shop's tablet, one after another, online or not."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from surveys.choices import QuestionType
from surveys.models import Response
from surveys.services import kiosk_register, kiosk_revoke
from tests.e2e.server import AppServer
from tests.e2e.survey_page import answer_every_question, choose, question, send, shown
from tests.factories.communities import LocationFactory
from tests.surveys.helpers import question_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 800, "height": 1280}
THANKS = "Thank you!"
SWITCHED_OFF = "This kiosk has been switched off."


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    """A tablet on the shop counter, fresh for each test."""
    context = browser.new_context(
        viewport=TABLET, has_touch=True, base_url=live_server.url, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def store(organisation):
    return LocationFactory(organisation=organisation, name="Silom store", code="silom")


@pytest.fixture
def kiosk(survey, store):
    return kiosk_register(survey=survey, location=store)


@pytest.fixture
def app_server(transactional_db) -> Iterator[AppServer]:
    """Chorus in a process of its own, so the test can pull the plug on it."""
    server = AppServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


def kiosk_url(kiosk) -> str:
    return reverse("surveys:kiosk", args=[kiosk.device_token])


def nps_wording(survey, language: str = "en") -> str:
    return question_of(survey, QuestionType.NPS).text_for(language)


def score(page: Page, survey, n: int, language: str = "en"):
    return question(page, nps_wording(survey, language)).get_by_role("radio", name=str(n))


def waiting(page: Page):
    return page.get_by_role("status").filter(has_text="waiting to send")


def test_the_kiosk_takes_one_customer_after_another(page: Page, kiosk, survey, store):
    # given: the tablet on the counter shows the survey, with big buttons to tap
    page.goto(kiosk_url(kiosk))
    expect(question(page, nps_wording(survey))).to_be_visible()
    for button in question(page, nps_wording(survey)).locator("label").all():
        box = button.bounding_box()
        assert box["width"] >= 48 and box["height"] >= 48
    # when: the first customer answers and sends
    answer_every_question(page, survey, nps=9)
    send(page)
    # then: they are thanked
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    # when: a few seconds later the next customer steps up
    expect(question(page, nps_wording(survey))).to_be_visible(timeout=8_000)
    # then: they find a fresh form, and answer their own way
    expect(score(page, survey, 9)).not_to_be_checked()
    answer_every_question(page, survey, nps=3, stars=2)
    send(page)
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    responses = Response.objects.order_by("pk")
    assert [r.answers.get(question_type=QuestionType.NPS).number for r in responses] == [9, 3]
    for response in responses:
        assert response.is_anonymous and response.member_id is None
        assert response.channel == kiosk and response.location == store
        assert response.language == "en"


def test_a_customer_who_walks_away_mid_survey_leaves_a_fresh_form(page: Page, survey, store):
    # given: a kiosk that starts again after 5 quiet seconds
    kiosk = kiosk_register(survey=survey, location=store, idle_reset_seconds=5)
    page.goto(kiosk_url(kiosk))
    # when: a customer switches to Thai, taps a score and walks away
    page.get_by_role("button", name="ภาษาไทย").click()
    choose(page, nps_wording(survey, "th"), "9")
    page.wait_for_timeout(2_000)
    expect(score(page, survey, 9, "th")).to_be_checked()
    # then: soon after, the next customer finds the form fresh, in the store's language
    expect(question(page, nps_wording(survey))).to_be_visible(timeout=8_000)
    expect(score(page, survey, 9)).not_to_be_checked()
    page.get_by_role("button", name="ภาษาไทย").click()
    expect(score(page, survey, 9, "th")).not_to_be_checked()
    assert Response.objects.count() == 0


def test_answers_given_while_the_server_is_down_are_sent_once_when_it_is_back(
    browser: Browser, app_server: AppServer, kiosk, survey
):
    tablet = browser.new_context(viewport=TABLET, has_touch=True, base_url=app_server.url)
    tablet.set_default_timeout(10_000)
    try:
        page = tablet.new_page()
        # given: the kiosk was opened once, so its service worker keeps a copy of it
        page.goto(kiosk_url(kiosk))
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        if not page.evaluate("navigator.serviceWorker.controller !== null"):
            page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        # when: the server goes down and a customer answers
        app_server.stop()
        answer_every_question(page, survey, nps=10)
        send(page)
        # then: they are thanked all the same, and staff can see one answer waiting
        expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
        expect(waiting(page)).to_have_text("1 waiting to send")
        # when: the tablet reloads the page while the server is still down
        page.reload()
        # then: the kiosk is still there, still holding the answer
        expect(question(page, nps_wording(survey))).to_be_visible()
        expect(waiting(page)).to_have_text("1 waiting to send")
        # when: a second customer answers, and the page tries the queue again meanwhile
        answer_every_question(page, survey, nps=2, stars=1)
        send(page)
        expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(waiting(page)).to_have_text("2 waiting to send")
        submit_url = reverse("surveys:kiosk_submit", args=[kiosk.device_token])
        queued = json.loads(
            page.evaluate(f"localStorage.getItem('chorus-kiosk-queue:{submit_url}')")
        )
        assert Response.objects.count() == 0
        # when: the server comes back
        app_server.start()
        # then: the queue drains by itself, each answer stored once
        expect(waiting(page)).to_be_hidden(timeout=12_000)
        responses = Response.objects.order_by("pk")
        assert [r.answers.get(question_type=QuestionType.NPS).number for r in responses] == [10, 2]
        assert [r.idempotency_key for r in responses] == [q["idempotency_key"] for q in queued]
        assert all(r.channel == kiosk and r.is_anonymous for r in responses)
        # when: the same answers arrive once more (a reply lost on the way back)
        for payload in queued:
            replay = page.request.post(submit_url, data=payload)
            # then: the server says it has them, and stores nothing new
            assert replay.status == 200
        assert Response.objects.count() == 2
    finally:
        tablet.close()


def test_a_missed_question_is_pointed_out_at_the_question(page: Page, kiosk, survey):
    # given: a customer answers everything but the score
    page.goto(kiosk_url(kiosk))
    answer_every_question(page, survey, nps=None)
    # when
    send(page)
    # then: the server's message shows at that question, and nothing is stored
    expect(page.get_by_role("alert")).to_contain_text("Please check the answers marked below.")
    expect(question(page, nps_wording(survey))).to_contain_text("Please answer this question.")
    assert Response.objects.count() == 0
    # when: they tap a score and send again
    choose(page, nps_wording(survey), "7")
    send(page)
    # then
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    assert Response.objects.get().answers.get(question_type=QuestionType.NPS).number == 7


def test_a_customer_switches_to_hebrew_and_answers_right_to_left(page: Page, kiosk, survey):
    # given
    page.goto(kiosk_url(kiosk))
    # when: the customer taps their language
    page.get_by_role("button", name="עברית").click()
    # then: the questions are in Hebrew, laid out right to left
    expect(question(page, nps_wording(survey, "he"))).to_be_visible()
    expect(page.locator("section[lang=he]")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("link[data-kiosk-css=rtl]")).to_have_attribute("media", "all")
    # when: they answer, but miss the score
    answer_every_question(page, survey, language="he", nps=None)
    send(page, "he")
    # then: they are told in Hebrew, at the question
    missed = shown("he", "Please answer this question.")
    expect(question(page, nps_wording(survey, "he"))).to_contain_text(missed)
    # when: they tap a score and send
    choose(page, nps_wording(survey, "he"), "9")
    send(page, "he")
    # then
    expect(page.get_by_role("heading", name=shown("he", THANKS))).to_be_visible()
    response = Response.objects.get()
    assert response.language == "he"
    assert response.answers.get(question_type=QuestionType.NPS).number == 9


def test_a_switched_off_kiosk_says_so(page: Page, kiosk):
    # given: staff switched the tablet's kiosk off
    kiosk_revoke(channel=kiosk)
    # when
    answer = page.goto(kiosk_url(kiosk))
    # then
    assert answer.status == 410
    expect(page.get_by_role("heading", name=SWITCHED_OFF)).to_be_visible()
    expect(page.get_by_role("button", name="Send my answers")).to_have_count(0)
