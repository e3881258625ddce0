"""A respondent page's answer key: a bad one is a clear "out of date" message, and the
visitor's year-long cookie leads to no row of the database (issue 12).

The cookie `chorus_answer_<public_id>` holds a random token; the response (or pooled answer)
is stored under HMAC(SECRET_KEY, token) only, so the browser is still told it answered, a
resend is still found, but whoever holds the browser and the database cannot join them.
"""

from __future__ import annotations

import hashlib
import importlib
import re

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils.crypto import salted_hmac

from surveys.choices import Anonymity, SurveyKind
from surveys.models import PooledAnswer, Response
from surveys.services import (
    invitation_link_token,
    kiosk_register,
    question_add,
    survey_create,
    survey_publish,
)
from surveys.services.responses import ANSWER_KEY_SALT, answer_key_stored, response_submit
from tests.factories.communities import LocationFactory
from tests.factories.surveys import SurveyInvitationFactory
from tests.surveys.helpers import answers_for, question_of

pytestmark = pytest.mark.django_db

OUT_OF_DATE = (
    "This page was out of date, so nothing was saved. Please check your answers and send "
    "them again."
)
CHECK_MARKED = "Please check the answers marked below."
ALREADY = "You have already answered this survey."


def url(survey) -> str:
    return reverse("surveys:survey_respond", args=[survey.public_id])


def cookie_name(survey) -> str:
    return f"chorus_answer_{survey.public_id}"


def page_key(page) -> str:
    return re.search(r'name="idempotency_key" value="([^"]*)"', page.content.decode())[1]


def answer_as_visitor(browser: Client, survey, **answers) -> str:
    """Open the public link and answer; returns the browser's cookie token."""
    browser.get(url(survey))
    token = browser.cookies[cookie_name(survey)].value
    sent = browser.post(url(survey), {**answers_for(survey, **answers), "idempotency_key": token})
    assert sent.status_code == 302 and "/thanks/" in sent.url
    return token


# --- a key that is not one of ours ----------------------------------------------------------


def test_a_ten_thousand_character_key_says_the_page_is_out_of_date(client, survey):
    # given: the survey page, whose key a broken or tampered page replaced
    client.get(url(survey))
    data = {**answers_for(survey, text="Lovely coffee"), "idempotency_key": "k" * 10_000}
    # when
    page = client.post(url(survey), data)
    # then: a clear message, not "check the answers marked below" with nothing marked
    html = page.content.decode()
    assert page.status_code == 400
    assert OUT_OF_DATE in html and CHECK_MARKED not in html
    assert not Response.objects.exists()
    # and the answers are still there, on a key of the site's own
    assert "Lovely coffee" in html
    assert page_key(page) == client.cookies[cookie_name(survey)].value
    # when: they send the page again, twice (a double tap)
    again = {**data, "idempotency_key": page_key(page)}
    first, second = client.post(url(survey), again), client.post(url(survey), again)
    # then: stored exactly once
    assert first.status_code == second.status_code == 302
    assert Response.objects.count() == 1


@pytest.mark.parametrize(
    "key",
    ["", " ", "has space", "<script>alert(1)</script>", "ключ", "a/b", "a\x00b", "k" * 65],
)
def test_a_malformed_key_says_the_page_is_out_of_date(client, survey, key):
    page = client.post(url(survey), {**answers_for(survey), "idempotency_key": key})
    html = page.content.decode()
    assert page.status_code == 400
    assert OUT_OF_DATE in html and CHECK_MARKED not in html
    assert not Response.objects.exists()


def test_a_missing_key_says_the_same(client, survey):
    data = answers_for(survey)
    del data["idempotency_key"]
    page = client.post(url(survey), data)
    assert page.status_code == 400 and OUT_OF_DATE in page.content.decode()


def test_a_bad_key_and_a_missed_question_say_both(client, survey):
    data = answers_for(survey, nps=None)
    data.pop(f"q_{question_of(survey, 'nps').pk}")
    page = client.post(url(survey), {**data, "idempotency_key": "x" * 100})
    html = page.content.decode()
    assert OUT_OF_DATE in html and CHECK_MARKED in html


def test_a_poll_vote_with_a_bad_key_counts_once_per_browser(client, organisation, community):
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question = question_add(survey=poll, type="yes_no", text={"en": "Oat milk?"}, required=True)
    survey_publish(survey=poll)
    client.get(url(poll))
    for _ in range(2):
        voted = client.post(url(poll), {f"q_{question.pk}": 1, "idempotency_key": "k" * 10_000})
        assert voted.status_code == 302
    assert Response.objects.count() == 1


# --- the cookie holds a token the database never holds ----------------------------------------


def stored_everywhere() -> list[str]:
    """Every text-like value in every table, as a database reader sees them."""
    values = []
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(
                f, models.CharField | models.TextField | models.JSONField | models.UUIDField
            )
        ]
        if fields:
            for row in model._base_manager.values_list(*fields):
                values.extend(str(value) for value in row if value is not None)
    return values


def what_a_reader_tries(token: str) -> set[str]:
    """The cookie, and what a reader without the server's secret can make of it."""
    raw = token.encode()
    return {token, token.upper()} | {
        getattr(hashlib, name)(raw).hexdigest() for name in ("md5", "sha1", "sha256", "sha512")
    }


def test_the_database_stores_a_keyed_hash_of_the_cookie_never_the_cookie(client, survey):
    # when: a visitor answers the public link
    token = answer_as_visitor(client, survey)
    # then: the cookie is a random token, and the response holds its keyed hash only
    response = Response.objects.get()
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    expected = salted_hmac(ANSWER_KEY_SALT, token, algorithm="sha256").hexdigest()
    assert response.idempotency_key == expected == answer_key_stored(token)
    assert not any(
        guess in value for value in stored_everywhere() for guess in what_a_reader_tries(token)
    )
    # and the browser is still told it answered
    assert client.get(url(survey)).status_code == 409


def test_on_an_anonymous_survey_no_cookie_joins_its_browser_to_an_answer(
    client, survey, organisation, community
):
    # given: eight visitors, and two people with personal links, answer an anonymous survey
    survey.anonymity = Anonymity.ANONYMOUS
    survey.save()
    browsers = {}
    for score in range(8):
        browser = Client()
        browsers[answer_as_visitor(browser, survey, nps=score)] = (browser, score)
    for n in range(2):
        invitation = SurveyInvitationFactory(survey=survey, email=f"guest{n}@example.com")
        browser = Client()
        browser.get(
            reverse("surveys:invitation_open", args=[invitation_link_token(invitation=invitation)])
        )
        browser.get(url(survey))
        token = browser.cookies[cookie_name(survey)].value
        browser.post(url(survey), {**answers_for(survey, nps=9), "idempotency_key": token})
        browsers[token] = (browser, 9)
    assert Response.objects.count() == 8 and PooledAnswer.objects.count() == 2
    # when: someone holding every browser's cookie reads every table, looking for them
    everything = stored_everywhere()
    joins = [
        token
        for token in browsers
        if any(guess in value for value in everything for guess in what_a_reader_tries(token))
    ]
    # then: not one cookie leads to a row
    assert joins == []
    # and each browser, and only it, is still told it answered
    for browser, _score in browsers.values():
        assert browser.get(url(survey)).status_code == 409
    assert Client().get(url(survey)).status_code == 200


def test_the_cookie_is_set_once_not_renewed_on_every_visit(client, survey):
    first = client.get(url(survey))
    assert cookie_name(survey) in first.cookies
    again = client.get(url(survey))
    assert cookie_name(survey) not in again.cookies


# --- cookies set before: still recognised, and their keys hashed in the database --------------

migration = importlib.import_module("surveys.migrations.0005_answer_keys_hashed")


def test_a_cookie_set_before_still_finds_its_answer_after_the_migration(survey):
    # given: an answer stored before this change, under the raw key its browser's cookie holds
    old = "0123456789abcdef0123456789abcdef"
    raw = answers_for(survey)
    raw.pop("idempotency_key")
    response_submit(survey=survey, raw_answers=raw, idempotency_key=old)
    browser = Client()
    browser.cookies[cookie_name(survey)] = old
    # when: the migration runs
    migration.hash_page_keys(apps, None)
    # then: the database holds the cookie's keyed hash, not the cookie
    assert Response.objects.get().idempotency_key == answer_key_stored(old)
    # and the browser is told it answered, without its cookie being written again
    arrival = browser.get(url(survey))
    assert arrival.status_code == 409 and ALREADY in arrival.content.decode()
    assert cookie_name(survey) not in arrival.cookies
    # and a page still open from before, sent again, is found rather than stored twice
    resent = browser.post(url(survey), {**answers_for(survey), "idempotency_key": old})
    assert resent.status_code == 302 and Response.objects.count() == 1


def test_the_migration_leaves_kiosk_and_other_keys_alone(survey, organisation):
    kiosk = kiosk_register(survey=survey, location=LocationFactory(organisation=organisation))
    raw = answers_for(survey)
    raw.pop("idempotency_key")
    page, kiosk_key, demo = "a" * 32, "b" * 32, "demo-123"
    response_submit(survey=survey, raw_answers=raw, idempotency_key=page)
    response_submit(survey=survey, raw_answers=raw, idempotency_key=kiosk_key, channel=kiosk)
    response_submit(survey=survey, raw_answers=raw, idempotency_key=demo)
    pooled = PooledAnswer.objects.create(
        organisation=organisation, survey=survey, answers={}, idempotency_key="c" * 32
    )
    migration.hash_page_keys(apps, None)
    keys = set(Response.objects.values_list("idempotency_key", flat=True))
    assert keys == {answer_key_stored(page), kiosk_key, demo}
    pooled.refresh_from_db()
    assert pooled.idempotency_key == answer_key_stored("c" * 32)
    # and running it twice changes nothing more
    migration.hash_page_keys(apps, None)
    assert set(Response.objects.values_list("idempotency_key", flat=True)) == keys
