"""A kiosk answer too big for the server: the customer is told, in their language, and the
queue of answers waiting to be sent is never held up by it (issue 12)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from surveys.choices import QuestionType
from surveys.models import Response
from surveys.services import kiosk_register
from tests.e2e.survey_page import answer_every_question, send, shown
from tests.factories.communities import LocationFactory
from tests.surveys.helpers import answers_for, question_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 800, "height": 1280}
THANKS = "Thank you!"
TOO_LONG = "Your answers are too long to send and were not saved. Please shorten them."
CHECK_MARKED = "Please check the answers marked below."
# Small, so an answer typed within the text box's own limit is over it.
LIMIT = 2048


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=TABLET, has_touch=True, base_url=live_server.url, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def kiosk(survey, organisation):
    return kiosk_register(survey=survey, location=LocationFactory(organisation=organisation))


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr("surveys.views.kiosk.KIOSK_MAX_BYTES", LIMIT)


def kiosk_url(kiosk) -> str:
    return reverse("surveys:kiosk", args=[kiosk.device_token])


def submit_url(kiosk) -> str:
    return reverse("surveys:kiosk_submit", args=[kiosk.device_token])


def waiting(page: Page):
    return page.get_by_role("status").filter(has_text="waiting to send")


def sent_to_the_server(page: Page, kiosk) -> list[int]:
    """The sizes of the answers the page sends, as they go."""
    sizes: list[int] = []
    page.on(
        "request",
        lambda request: (
            sizes.append(len(request.post_data_buffer or b""))
            if request.url.endswith(submit_url(kiosk))
            else None
        ),
    )
    return sizes


def test_an_answer_too_long_is_pointed_out_at_once_and_kept_to_shorten(
    page: Page, kiosk, survey, small_limit
):
    # given: a Thai customer at the kiosk writes a long story
    page.goto(kiosk_url(kiosk))
    sizes = sent_to_the_server(page, kiosk)
    page.get_by_role("button", name="ภาษาไทย").click()
    story = "กาแฟอร่อยมาก " * 250
    answer_every_question(page, survey, language="th", nps=3, text=story)
    # when
    send(page, "th")
    # then: told in Thai that it is too long and was not saved; not asked to check marks
    alert = page.get_by_role("alert").filter(has_text=shown("th", TOO_LONG))
    expect(alert).to_be_visible()
    expect(alert.get_by_text(shown("th", CHECK_MARKED))).to_be_hidden()
    # and nothing went to the server or into the queue; the answers are still there
    assert sizes == [] and not Response.objects.exists()
    expect(waiting(page)).to_be_hidden()
    text_box = page.get_by_label(question_of(survey, QuestionType.TEXT).text_for("th"))
    expect(text_box).to_have_value(story)
    # when: they shorten it and send again
    text_box.fill("กาแฟอร่อยมาก")
    send(page, "th")
    # then
    expect(page.get_by_role("heading", name=shown("th", THANKS))).to_be_visible()
    assert Response.objects.get().answers.get(question_type=QuestionType.NPS).number == 3


def test_the_servers_413_is_shown_in_the_customers_language(page: Page, kiosk, survey, monkeypatch):
    # given: the kiosk page was loaded when the server took more than it does now
    page.goto(kiosk_url(kiosk))
    monkeypatch.setattr("surveys.views.kiosk.KIOSK_MAX_BYTES", LIMIT)
    page.get_by_role("button", name="עברית").click()
    answer_every_question(page, survey, language="he", text="קפה טוב מאוד " * 250)
    # when
    send(page, "he")
    # then: the server's words, in Hebrew; the answer is neither stored nor queued
    expect(page.get_by_role("alert")).to_contain_text(shown("he", TOO_LONG))
    expect(page.get_by_role("heading", name=shown("he", THANKS))).to_be_hidden()
    expect(waiting(page)).to_be_hidden()
    assert not Response.objects.exists()


def test_a_queued_answer_too_big_does_not_hold_up_the_others(
    page: Page, kiosk, survey, small_limit
):
    # given: a server that, like gunicorn's sync worker used to, resets a connection whose
    # body is too big rather than answer it
    def reset_the_big_ones(route: Route) -> None:
        if len(route.request.post_data_buffer or b"") > LIMIT:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(f"**{submit_url(kiosk)}", reset_the_big_ones)
    page.goto(kiosk_url(kiosk))
    # and a queue left by an earlier page: a huge answer first, then an ordinary one
    answers = answers_for(survey, nps=8)
    answers.pop("idempotency_key")
    huge = {
        "idempotency_key": str(uuid.uuid4()),
        "language": "en",
        "answers": {**answers, f"q_{question_of(survey, QuestionType.TEXT).pk}": "x" * 5000},
    }
    ordinary = {"idempotency_key": str(uuid.uuid4()), "language": "en", "answers": answers}
    queue_key = f"chorus-kiosk-queue:{submit_url(kiosk)}"
    page.evaluate(
        "([key, queue]) => localStorage.setItem(key, queue)",
        [queue_key, json.dumps([huge, ordinary])],
    )
    # when: the network comes back
    page.evaluate("window.dispatchEvent(new Event('online'))")
    # then: the queue empties, the ordinary answer stored and the huge one given up
    for _ in range(60):
        if page.evaluate(f"localStorage.getItem('{queue_key}')") is None:
            break
        page.wait_for_timeout(200)
    assert page.evaluate(f"localStorage.getItem('{queue_key}')") is None
    response = Response.objects.get()
    assert response.idempotency_key == ordinary["idempotency_key"]
    expect(waiting(page)).to_be_hidden()
