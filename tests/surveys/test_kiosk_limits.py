"""A kiosk's answers too big to take get a clear JSON 413 in the kiosk's language, and an
answer always arrives: no connection reset (issue 12, "Unclear errors")."""

from __future__ import annotations

import http.client
import json
import logging
import subprocess
import sys
import uuid
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from surveys.models import Response
from surveys.services import kiosk_register
from surveys.views.kiosk import KIOSK_MAX_BYTES
from tests.e2e.server import AppServer
from tests.factories.communities import LocationFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db

TOO_LONG = "Your answers are too long to send and were not saved. Please shorten them."
TOO_BIG = "The form sent more text or data than this site takes at once, so nothing was saved."
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def store(organisation):
    return LocationFactory(organisation=organisation, name="Silom store")


@pytest.fixture
def kiosk(survey, store):
    return kiosk_register(survey=survey, location=store)


def submit_url(kiosk) -> str:
    return reverse("surveys:kiosk_submit", args=[kiosk.device_token])


def kiosk_body(survey, *, size: int = 0, language: str = "en") -> bytes:
    """A kiosk's JSON answer, padded with text to `size` bytes when asked."""
    answers = answers_for(survey)
    answers.pop("idempotency_key")
    body = {"idempotency_key": str(uuid.uuid4()), "language": language, "answers": answers}
    raw = json.dumps(body).encode()
    if size:
        body["answers"]["padding"] = "x" * (size - len(raw) - len(', "padding": ""'))
        raw = json.dumps(body).encode()
        assert len(raw) == size
    return raw


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        shown = translation.gettext(text)
    assert shown != text, f"{text!r} has no {language} translation"
    return shown


def post_raw(
    base_url: str,
    path: str,
    body: bytes,
    language: str,
    content_type: str = "application/json",
) -> tuple[int, dict | str]:
    """POST the way a tablet's browser does, on a socket of its own: what comes back."""
    where = urlsplit(base_url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": content_type,
                "Accept": content_type,
                "Accept-Language": language,
            },
        )
        answer = connection.getresponse()
        text = answer.read().decode()
        return answer.status, json.loads(text) if content_type == "application/json" else text
    finally:
        connection.close()


# --- through Django's test client -----------------------------------------------------------


def test_five_megabytes_get_a_413_in_the_kiosks_language(client, kiosk, caplog):
    # given: a kiosk answering in Thai sends 5 MB
    body = kiosk_body(kiosk.survey, size=FIVE_MB, language="th")
    # when
    with caplog.at_level(logging.INFO):
        answer = client.post(
            submit_url(kiosk), body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="th"
        )
    # then: a JSON 413 the kiosk can show, in Thai, and nothing stored
    assert answer.status_code == 413
    assert answer.json() == {
        "error": "too_large",
        "message": in_language("th", TOO_LONG),
        "max_bytes": KIOSK_MAX_BYTES,
    }
    assert not Response.objects.exists()
    # and one warning line, without a traceback and without the device's token
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) == 1 and logged[0].exc_info is None
    assert kiosk.device_token not in logged[0].getMessage()


def test_a_language_the_survey_lacks_gets_the_stores(client, kiosk, store, survey):
    survey.languages = ["en", "he"]
    survey.save()
    store.language = "he"
    store.save()
    answer = client.post(
        submit_url(kiosk),
        kiosk_body(survey, size=KIOSK_MAX_BYTES + 1),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert answer.status_code == 413
    assert answer.json()["message"] == in_language("he", TOO_LONG)


def test_the_limit_is_the_kiosks_and_an_answer_within_it_is_stored(client, kiosk):
    # An answer of exactly the limit is read (and refused for its padding, a field of no
    # question, which is ignored); one byte more is not read at all.
    at_limit = kiosk_body(kiosk.survey, size=KIOSK_MAX_BYTES)
    over = kiosk_body(kiosk.survey, size=KIOSK_MAX_BYTES + 1)
    assert client.post(submit_url(kiosk), over, content_type="application/json").status_code == 413
    stored = client.post(submit_url(kiosk), at_limit, content_type="application/json")
    assert stored.status_code == 201
    assert Response.objects.count() == 1


def test_the_kiosk_page_knows_the_limit_and_says_it_in_every_language(client, kiosk):
    html = client.get(reverse("surveys:kiosk", args=[kiosk.device_token])).content.decode()
    assert f'data-max-bytes="{KIOSK_MAX_BYTES}"' in html
    for language in ("th", "he", "ja"):
        assert f'data-too-large-message="{in_language(language, TOO_LONG)}"' in html


# --- through real servers: an answer arrives, the connection is not reset --------------------


@pytest.mark.django_db(transaction=True)
def test_five_megabytes_to_the_live_server_get_an_answer(live_server, kiosk):
    status, body = post_raw(
        live_server.url,
        submit_url(kiosk),
        kiosk_body(kiosk.survey, size=FIVE_MB, language="ja"),
        language="ja",
    )
    assert status == 413
    assert body["error"] == "too_large" and body["message"] == in_language("ja", TOO_LONG)
    assert not Response.objects.exists()


class ProductionServer(AppServer):
    """gunicorn's sync worker, as config/gunicorn.py runs it: it does not read what the
    app left unread, so a body the app never read used to reset the connection."""

    def _spawn(self, log) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                "--workers=1",
                "--worker-class=sync",
                "--log-level=warning",
            ],
            cwd=settings.BASE_DIR,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.mark.django_db(transaction=True)
def test_five_megabytes_to_gunicorn_get_an_answer_not_a_reset(kiosk):
    server = ProductionServer()
    try:
        server.start()
        for _ in range(3):
            status, body = post_raw(
                server.url,
                submit_url(kiosk),
                kiosk_body(kiosk.survey, size=FIVE_MB, language="he"),
                language="he",
            )
            assert status == 413, server.output()
            assert body["message"] == in_language("he", TOO_LONG)
        # and so does a survey form over Django's 2.5 MB limit
        status, page = post_raw(
            server.url,
            reverse("surveys:survey_respond", args=[kiosk.survey.public_id]) + "?lang=he",
            urlencode({"q_1": "x" * 3_000_000}).encode(),
            language="he",
            content_type="application/x-www-form-urlencoded",
        )
        assert status == 413, server.output()
        assert in_language("he", TOO_BIG) in page
    finally:
        server.close()
    assert not Response.objects.exists()
