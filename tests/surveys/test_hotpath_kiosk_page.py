"""The kiosk page's forms are rendered once per survey version, and never served stale.

Each process keeps a kiosk's forms (every language of the survey) under the survey's
version (surveys.compiled), so a tablet's page load renders no form; an edit to the survey
or one of its questions names a new version, and the next load shows it.
"""

import pytest
from django.urls import reverse

from surveys.compiled import compiled_forget
from surveys.services import kiosk_register
from surveys.services.builder import question_update
from tests.factories.communities import LocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk(survey, organisation):
    compiled_forget()
    return kiosk_register(survey=survey, location=LocationFactory(organisation=organisation))


def _page(client, kiosk) -> str:
    page = client.get(reverse("surveys:kiosk", args=[kiosk.device_token]))
    assert page.status_code == 200
    return page.content.decode()


def test_two_kiosks_of_one_survey_share_its_forms_and_render_none_again(
    client, kiosk, survey, organisation, django_assert_max_num_queries
):
    # given a first load, which renders the forms
    first = _page(client, kiosk)
    other = kiosk_register(survey=survey, location=LocationFactory(organisation=organisation))
    # when another kiosk of the same survey loads its page
    with django_assert_max_num_queries(1):  # its channel, survey and store: one query
        second = _page(client, other)
    # then it shows the same forms
    question = survey.questions.filter(hidden=False).first()
    assert question.text["en"] in first and question.text["en"] in second


def test_editing_a_question_shows_the_new_wording_on_the_next_load(client, kiosk, survey):
    question = survey.questions.filter(hidden=False).order_by("position").first()
    assert question.text["en"] in _page(client, kiosk)
    # when staff reword it
    question_update(
        question=question,
        text={**question.text, "en": "How was your visit today, honestly?"},
        required=question.required,
        settings=question.settings,
        choices=[{"en": c.text.get("en", "")} for c in question.choices.all()] or None,
    )
    # then the tablet's next load has the new words, not the kept ones
    html = _page(client, kiosk)
    assert "How was your visit today, honestly?" in html


def test_adding_a_language_to_the_survey_adds_its_form(client, kiosk, survey):
    survey.languages = ["en"]
    survey.save()
    assert [f["code"] for f in client.get(_url(kiosk)).context["forms"]] == ["en"]
    survey.languages = ["en", "he"]
    survey.save()
    page = client.get(_url(kiosk))
    assert [f["code"] for f in page.context["forms"]] == ["en", "he"]
    assert 'dir="rtl"' in page.content.decode() or page.context["forms"][1]["bidi"]


def _url(kiosk) -> str:
    return reverse("surveys:kiosk", args=[kiosk.device_token])
