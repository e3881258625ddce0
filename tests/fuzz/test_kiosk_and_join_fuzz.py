"""A kiosk's JSON answers and the community join form take any post without a server
error, and a post they refuse saves nothing.

The kiosk gets bytes that are not JSON, JSON that is not an object, answers of every JSON
type (NaN and Infinity too) for every kind of question, choices of another survey; the
join form gets any text in every field, impossible dates and numbers, fields repeated,
missing or invented, in both form encodings.
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.bodies import form_post, join_bodies, kiosk_bodies
from tests.fuzz.conftest import row_state
from tests.fuzz.strategies import FUZZ_SETTINGS

pytestmark = pytest.mark.django_db


@FUZZ_SETTINGS
@given(data=st.data())
def test_a_kiosk_never_fails_and_refused_answers_save_nothing(
    kiosk, every_question, foreign_choice_ids, data
):
    # given a store's kiosk
    raw, content_type = data.draw(kiosk_bodies(every_question, foreign_choice_ids), label="body")
    before = row_state()
    # when it posts anything at all
    page = Client().post(f"/k/{kiosk.device_token}/responses/", raw, content_type=content_type)
    # then it is stored or refused with a JSON answer, and a refusal wrote nothing
    assert page.status_code < 500, page.content[:500]
    assert page["Content-Type"].startswith("application/") and page.json() is not None
    if page.status_code >= 400:
        assert row_state() == before


@FUZZ_SETTINGS
@given(data=st.data())
def test_the_join_form_never_fails_and_a_refused_join_saves_nothing(open_community, data):
    # given the join page of an open community that asks a city, a birthday and a size
    url = f"/c/{open_community.organisation.slug}/{open_community.slug}/join/"
    body = data.draw(join_bodies(), label="body")
    before = row_state()
    # when anyone posts anything at all
    page = form_post(Client(), url, body, urlencoded=data.draw(st.booleans(), label="urlencoded"))
    # then they joined (or were told to check their email) or were refused, saving nothing
    assert page.status_code < 500, page.content[:500]
    if page.status_code >= 400:
        assert row_state() == before
