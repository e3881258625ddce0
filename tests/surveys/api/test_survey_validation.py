"""Refused survey input is a problem naming the field (a JSON pointer), never a 500, and
nothing is written: a 400 when it does not fit the schema, a 422 when it fits the schema but
not the survey (its languages, its questions) or the organisation's data."""

import pytest

from communities.models import AuditEntry
from surveys.models import Survey
from tests.factories.communities import CommunityFactory
from tests.surveys.api.conftest import api_url, problem_pointers

pytestmark = pytest.mark.django_db

BASE = {"title": {"en": "Visit"}, "languages": ["en"]}


def _question(**fields):
    return {"type": "star", "text": {"en": "Stars?"}, **fields}


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"title": {"en": "Visit"}}, "/languages"),
        ({"languages": ["en"]}, "/title"),
        ({**BASE, "colour": "red"}, "/colour"),
        ({"": {"\u008d": {"": False}}}, "/"),
        ({**BASE, "title": {"en": 7}}, "/title/en"),
        ({**BASE, "points": "10"}, "/points"),
        ({**BASE, "anonymous_points": "yes"}, "/anonymous_points"),
        ({**BASE, "opens_at": "2030-01-02"}, "/opens_at"),
        ({**BASE, "questions": [_question(colour="red")]}, "/questions/0/colour"),
        ({**BASE, "languages": []}, "/languages"),
        ({**BASE, "languages": ["fr"]}, "/languages/0"),
        ({**BASE, "languages": ["en", "en"]}, "/languages"),
        ({**BASE, "title": {"en": "x" * 201}}, "/title/en"),
        ({**BASE, "title": {"fr": "Visite"}}, "/title/fr"),
        ({**BASE, "title": "Visit"}, "/title"),
        ({**BASE, "thank_you": {"en": "x" * 1001}}, "/thank_you/en"),
        ({**BASE, "kind": "quiz"}, "/kind"),
        ({**BASE, "anonymity": "secret"}, "/anonymity"),
        ({**BASE, "points": -1}, "/points"),
        ({**BASE, "points": 10**30}, "/points"),
        ({**BASE, "points": "many"}, "/points"),
        ({**BASE, "reminder_limit": 6}, "/reminder_limit"),
        ({**BASE, "invitation_valid_days": 0}, "/invitation_valid_days"),
        ({**BASE, "trigger": "order_shipped"}, "/trigger"),
        ({**BASE, "community": 10**20}, "/community"),
        ({**BASE, "community": True}, "/community"),
        ({**BASE, "opens_at": "yesterday"}, "/opens_at"),
        ({**BASE, "template": "nope"}, "/template"),
        ({**BASE, "title": {"en": "Visit\x00"}}, "/title/en"),
        ({**BASE, "questions": "all of them"}, "/questions"),
        ({**BASE, "questions": [_question()] * 101}, "/questions"),
        ({**BASE, "questions": [_question(type="essay")]}, "/questions/0/type"),
        ({**BASE, "questions": [{"type": "star"}]}, "/questions/0/text"),
        ({**BASE, "questions": [_question(text={"en": "x" * 501})]}, "/questions/0/text/en"),
        ({**BASE, "questions": [_question(required="sometimes")]}, "/questions/0/required"),
        (
            {
                **BASE,
                "questions": [
                    _question(type="multi_choice", choices=[{"en": f"c{n}"} for n in range(51)])
                ],
            },
            "/questions/0/choices",
        ),
        (
            {
                **BASE,
                "questions": [
                    _question(type="single_choice", choices=[{"en": "a"}, {"en": "b" * 201}])
                ],
            },
            "/questions/0/choices/1/en",
        ),
        (
            {**BASE, "questions": [_question(type="rating", settings={"max": 11})]},
            "/questions/0/settings/max",
        ),
    ],
)
def test_a_refused_survey_names_the_field_and_writes_nothing(api, organisation, body, pointer):
    answer = api.post(api_url("survey_list", organisation), body, "json")

    assert answer.status_code == 400, answer.json()
    assert pointer in problem_pointers(answer), answer.json()
    assert not Survey.objects.exists()
    assert not AuditEntry.objects.filter(target_type="survey").exists()


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({**BASE, "title": {"th": "เยี่ยม"}}, "/title/th"),
        ({**BASE, "title": {"en": ""}}, "/title"),
        (
            {**BASE, "opens_at": "2030-01-02T00:00:00Z", "closes_at": "2030-01-01T00:00:00Z"},
            "/closes_at",
        ),
        ({**BASE, "template": "nps", "questions": [_question()]}, "/questions"),
        ({**BASE, "questions": [_question(text={"en": ""})]}, "/questions/0/text/en"),
        ({**BASE, "questions": [_question(text={"th": "ดาว"})]}, "/questions/0/text/en"),
        (
            {**BASE, "questions": [_question(choices=[{"en": "a"}, {"en": "b"}])]},
            "/questions/0/choices",
        ),
        (
            {**BASE, "questions": [_question(type="single_choice", choices=[{"en": "only"}])]},
            "/questions/0/choices",
        ),
        (
            {
                **BASE,
                "questions": [
                    _question(type="single_choice", choices=[{"en": "Same"}, {"en": "Same"}])
                ],
            },
            "/questions/0/choices",
        ),
        (
            {
                **BASE,
                "questions": [_question(type="single_choice", choices=[{"en": "a"}, {"th": "b"}])],
            },
            "/questions/0/choices/1/en",
        ),
        (
            {**BASE, "questions": [_question(type="rating", settings={"min": 5, "max": 3})]},
            "/questions/0/settings",
        ),
        ({**BASE, "questions": [_question(settings={"min": 1})]}, "/questions/0/settings/min"),
        (
            {**BASE, "questions": [_question(settings={"other": True})]},
            "/questions/0/settings/other",
        ),
        (
            {**BASE, "questions": [_question(settings={"min_label": {"en": "Low"}})]},
            "/questions/0/settings/min_label",
        ),
        (
            {
                **BASE,
                "questions": [
                    _question(),
                    _question(
                        settings={"show_if": {"question_position": 2, "op": "lte", "values": [2]}}
                    ),
                ],
            },
            "/questions/1/settings/show_if/question_position",
        ),
        (
            {
                **BASE,
                "questions": [
                    _question(),
                    _question(
                        settings={"show_if": {"question_position": 1, "op": "lte", "values": [9]}}
                    ),
                ],
            },
            "/questions/1/settings/show_if",
        ),
        (
            {
                **BASE,
                "questions": [
                    _question(type="single_choice", choices=[{"en": "a"}, {"en": "b"}]),
                    _question(
                        settings={"show_if": {"question_position": 1, "op": "in", "values": [3]}}
                    ),
                ],
            },
            "/questions/1/settings/show_if/values",
        ),
        (
            {
                **BASE,
                "questions": [
                    _question(),
                    _question(
                        settings={"show_if": {"question_position": 1, "op": "eq", "values": [1, 2]}}
                    ),
                ],
            },
            "/questions/1/settings/show_if/values",
        ),
    ],
)
def test_a_survey_that_does_not_fit_its_own_languages_or_questions_is_a_422(
    api, organisation, body, pointer
):
    answer = api.post(api_url("survey_list", organisation), body, "json")

    assert answer.status_code == 422, answer.json()
    assert pointer in problem_pointers(answer), answer.json()
    assert not Survey.objects.exists()
    assert not AuditEntry.objects.filter(target_type="survey").exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"null", "application/json"),
        (b"title=Visit", "application/x-www-form-urlencoded"),
        (b'{"title": {"en": "\\ud800"}, "languages": ["en"]}', "application/json"),
    ],
)
def test_malformed_bodies_are_4xx_problems(staff_client, organisation, body, content_type):
    answer = staff_client.post(
        api_url("survey_list", organisation), body, content_type=content_type
    )

    assert 400 <= answer.status_code < 500
    assert answer["Content-Type"].startswith("application/problem+json")
    assert not Survey.objects.exists()


def test_another_organisations_community_is_refused_as_unknown(
    api, organisation, other_organisation
):
    foreign = CommunityFactory(organisation=other_organisation)

    answer = api.post(
        api_url("survey_list", organisation), {**BASE, "community": foreign.pk}, "json"
    )

    assert answer.status_code == 422
    assert problem_pointers(answer) == {"/community"}


def test_a_huge_body_is_refused_before_it_is_read(staff_client, organisation):
    body = b'{"title": {"en": "' + b"x" * (2 * 1024 * 1024) + b'"}, "languages": ["en"]}'

    answer = staff_client.post(
        api_url("survey_list", organisation), body, content_type="application/json"
    )

    assert answer.status_code in (400, 413)
    assert not Survey.objects.exists()


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"points": None}, "/points"),
        ({"languages": ["en", "en"]}, "/languages"),
    ],
)
def test_a_refused_change_names_the_field_and_changes_nothing(
    api, organisation, draft, body, pointer
):
    answer = api.patch(api_url("survey_detail", organisation, draft.pk), body, "json")

    assert answer.status_code == 400, answer.json()
    assert pointer in problem_pointers(answer), answer.json()
    draft.refresh_from_db()
    assert draft.title == {"en": "Draft", "th": "ร่าง"} and draft.languages == ["en", "th"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"title": {"en": "", "th": ""}}, "/title"),
        ({"languages": ["ja"]}, "/title"),
        ({"closes_at": "2000-01-01T00:00:00Z", "opens_at": "2001-01-01T00:00:00Z"}, "/closes_at"),
        ({"title": {"he": "ביקור"}}, "/title/he"),
    ],
)
def test_a_change_that_does_not_fit_the_survey_is_a_422(api, organisation, draft, body, pointer):
    answer = api.patch(api_url("survey_detail", organisation, draft.pk), body, "json")

    assert answer.status_code == 422, answer.json()
    assert pointer in problem_pointers(answer), answer.json()
    draft.refresh_from_db()
    assert draft.title == {"en": "Draft", "th": "ร่าง"} and draft.languages == ["en", "th"]
