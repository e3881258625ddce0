"""A form over Django's size limits gets a clear page in the respondent's language, not a
bare 400 with a traceback in the log (issue 12, "Unclear errors")."""

from __future__ import annotations

import logging
import re

import pytest
from django.core.exceptions import SuspiciousOperation, TooManyFieldsSent
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from config.errors import bad_request
from surveys.models import PooledAnswer, Response
from tests.surveys.helpers import answers_for, question_of

pytestmark = pytest.mark.django_db

TOO_MANY = "The form sent more answers than this site takes at once, so nothing was saved."
TOO_BIG = "The form sent more text or data than this site takes at once, so nothing was saved."


def url(survey, query: str = "") -> str:
    return reverse("surveys:survey_respond", args=[survey.public_id]) + query


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        shown = translation.gettext(text)
    assert language == "en" or shown != text, f"{text!r} has no {language} translation"
    return shown


def five_thousand_ticks(survey) -> dict:
    """The survey's answers, with one checkbox value sent 5,000 times."""
    choice = question_of(survey, "multi_choice").choices.first()
    return {**answers_for(survey), f"q_{choice.question_id}": [choice.pk] * 5000}


def problems(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def assert_one_plain_warning(caplog) -> logging.LogRecord:
    logged = problems(caplog)
    assert len(logged) == 1, [r.getMessage() for r in logged]
    (record,) = logged
    assert record.levelno == logging.WARNING
    assert record.exc_info is None and record.stack_info is None
    assert "Traceback" not in record.getMessage()
    return record


def assert_nothing_saved() -> None:
    assert not Response.objects.exists() and not PooledAnswer.objects.exists()


# --- too many fields ------------------------------------------------------------------------


def test_five_thousand_ticks_get_a_clear_page_in_the_respondents_language(client, survey, caplog):
    # given: a Thai respondent's survey page
    client.get(url(survey, "?lang=th"))
    # when: their browser sends one checkbox value 5,000 times
    with caplog.at_level(logging.INFO):
        page = client.post(url(survey, "?lang=th"), five_thousand_ticks(survey))
    # then: a page in Thai says the form sent too much and nothing was saved
    assert page.status_code == 400
    html = page.content.decode()
    assert '<html lang="th"' in html
    assert in_language("th", TOO_MANY) in html
    assert f'href="{url(survey, "?lang=th")}"' in html, "a link back to the form"
    assert_nothing_saved()
    # and one warning line is logged, naming the route, without a traceback
    record = assert_one_plain_warning(caplog)
    assert "surveys:survey_respond" in record.getMessage()
    assert "TooManyFieldsSent" in record.getMessage()
    assert str(survey.public_id) not in record.getMessage()


def test_the_page_goes_back_to_the_page_the_form_was_on(client, survey):
    referer = "http://testserver" + url(survey, "?lang=ja")
    page = client.post(url(survey), five_thousand_ticks(survey), HTTP_REFERER=referer)
    assert f'href="{referer}"' in page.content.decode()
    # and never to another site
    page = client.post(url(survey), five_thousand_ticks(survey), HTTP_REFERER="https://evil.test/")
    assert "evil.test" not in page.content.decode()


def test_a_hebrew_browser_gets_the_page_in_hebrew_right_to_left(client, survey):
    page = client.post(url(survey), five_thousand_ticks(survey), HTTP_ACCEPT_LANGUAGE="he")
    html = page.content.decode()
    assert page.status_code == 400
    assert '<html lang="he" dir="rtl"' in html and in_language("he", TOO_MANY) in html


def test_a_members_form_posts_in_their_language_so_the_page_is_in_it(member_client, member, survey):
    # given: a member whose language is Japanese opens the survey without ?lang=
    member.locale = "ja"
    member.save()
    form_page = member_client.get(url(survey), HTTP_ACCEPT_LANGUAGE="en")
    action = re.search(r'<form method="post" action="([^"]*)"', form_page.content.decode())[1]
    assert action == "?lang=ja"
    # when: the form sends too much, where its page sends it
    page = member_client.post(url(survey, action), five_thousand_ticks(survey))
    # then
    assert page.status_code == 400
    assert in_language("ja", TOO_MANY) in page.content.decode()
    assert_nothing_saved()


def test_the_csrf_check_reading_the_form_first_gets_the_same_page(survey, caplog):
    # given: a browser as in production, where the CSRF check reads the form before the view
    browser = Client(enforce_csrf_checks=True)
    browser.get(url(survey))
    data = {
        **five_thousand_ticks(survey),
        "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
    }
    # when
    with caplog.at_level(logging.INFO):
        page = browser.post(url(survey, "?lang=th"), data)
    # then
    assert page.status_code == 400
    assert in_language("th", TOO_MANY) in page.content.decode()
    assert_one_plain_warning(caplog)
    assert_nothing_saved()


def test_an_address_with_thousands_of_parameters_gets_the_page_too(client, survey, caplog):
    query = "?lang=he&" + "&".join(f"x{n}=1" for n in range(1500))
    with caplog.at_level(logging.INFO):
        page = client.get(url(survey, query))
    assert page.status_code == 400
    assert TOO_MANY in page.content.decode(), "the query's ?lang= is unreadable: the browser's"
    assert_one_plain_warning(caplog)


def test_too_many_files_get_the_page(client, survey, caplog):
    files = [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(101)]
    with caplog.at_level(logging.INFO):
        page = client.post(url(survey, "?lang=ja"), {**answers_for(survey), "upload": files})
    assert page.status_code == 400
    assert in_language("ja", TOO_MANY) in page.content.decode()
    assert_one_plain_warning(caplog)
    assert_nothing_saved()


# --- too large ------------------------------------------------------------------------------


def test_a_body_over_the_size_limit_gets_413_and_a_clear_page(client, survey, caplog):
    # given: 3 MB of text, over Django's 2.5 MB limit for a form
    data = {**answers_for(survey), f"q_{question_of(survey, 'text').pk}": "x" * 3_000_000}
    # when
    with caplog.at_level(logging.INFO):
        page = client.post(url(survey, "?lang=he"), data)
    # then
    assert page.status_code == 413
    assert in_language("he", TOO_BIG) in page.content.decode()
    assert_one_plain_warning(caplog)
    assert_nothing_saved()


# --- JSON endpoints -------------------------------------------------------------------------


def test_the_api_answers_a_problem(api, organisation, caplog, settings):
    # given: a body over Django's limit, which a keyed write reads whole
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"name": "' + "x" * 2000 + '"}'
    with caplog.at_level(logging.INFO):
        answer = api.post(
            f"/api/v1/{organisation.slug}/events/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )
    # then
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "request_too_large" and problem["detail"] == TOO_BIG
    assert problem["type"].endswith("/request-too-large") and problem["status"] == 413
    assert problem["instance"] == f"/api/v1/{organisation.slug}/events/"
    assert_one_plain_warning(caplog)


def test_a_form_body_to_the_api_is_refused_as_not_json(api, organisation):
    body = "&".join(f"f{n}=1" for n in range(5000))
    answer = api.post(
        f"/api/v1/{organisation.slug}/events/",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 415
    assert answer.json()["code"] == "unsupported_media_type"


# --- handler400 -----------------------------------------------------------------------------


def test_handler400_gives_the_page_for_a_limit_and_django_s_page_for_the_rest():
    request = RequestFactory().post("/s/x/?lang=th")
    with translation.override("en"):
        page = bad_request(request, TooManyFieldsSent("too many"))
    assert page.status_code == 400 and in_language("th", TOO_MANY) in page.content.decode()
    other = bad_request(RequestFactory().get("/"), SuspiciousOperation("odd"))
    assert other.status_code == 400 and TOO_MANY not in other.content.decode()
