"""Whatever a client sends to the surveys and responses API, the answer is never a 500: a
write is taken (2xx) or refused as a problem (4xx), and a list's filters likewise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.choices import QuestionType, SurveyStatus
from tests.factories.communities import StaffRoleFactory
from tests.factories.surveys import ChoiceFactory, QuestionFactory, SurveyFactory
from tests.fuzz.strategies import FUZZ_SETTINGS, any_text, unicode_text
from tests.surveys.api.conftest import api_url

pytestmark = pytest.mark.django_db

# JSON of every shape: the wrong type where a field wants another is the usual mistake.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    any_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(unicode_text, inner, max_size=4),
    max_leaves=12,
)
languages = st.sampled_from(["en", "th", "he", "ja", "fr", "", "EN"])
texts = st.dictionaries(languages, any_text, max_size=5) | json_values
show_if = st.fixed_dictionaries(
    {},
    optional={
        "question": json_values | st.integers(-5, 5),
        "question_position": json_values | st.integers(-1, 4),
        "op": st.sampled_from(["lte", "gte", "eq", "in", "x"]) | json_values,
        "values": st.lists(st.integers(-3, 12), max_size=4) | json_values,
    },
)
question_settings = st.fixed_dictionaries(
    {},
    optional={
        "min": st.integers(-2, 12) | json_values,
        "max": st.integers(-2, 12) | json_values,
        "min_label": texts,
        "max_label": texts,
        "other": st.booleans() | json_values,
        "show_if": show_if | st.none(),
    },
)
question = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from([*QuestionType.values, "essay"]) | json_values,
        "text": texts,
        "required": st.booleans() | json_values,
        "settings": question_settings | json_values,
        "choices": st.lists(texts, max_size=6) | json_values,
    },
)
survey = st.fixed_dictionaries(
    {},
    optional={
        "title": texts,
        "thank_you": texts,
        "languages": st.lists(languages, max_size=5) | json_values,
        "kind": st.sampled_from(["survey", "poll", "quiz"]) | json_values,
        "community": st.integers(-1, 2**64) | json_values,
        "anonymity": st.sampled_from(["identified", "anonymous", "x"]) | json_values,
        "points": st.integers(-10, 2**40) | json_values,
        "opens_at": st.sampled_from(
            ["2030-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
        )
        | json_values,
        "closes_at": st.sampled_from(["2029-01-01T00:00:00Z", "2031-01-01"]) | json_values,
        "reminder_limit": st.integers(-1, 9) | json_values,
        "trigger": st.sampled_from(["", "ticket_closed", "x"]) | json_values,
        "template": st.sampled_from(["nps", "csat", "x"]) | json_values,
        "questions": st.lists(question, max_size=4) | json_values,
    },
)
bodies = {
    "survey_create": survey,
    "survey_update": survey,
    "question_add": question,
    "question_update": question,
    "choice": st.fixed_dictionaries({}, optional={"label": texts}) | json_values,
    "order": st.fixed_dictionaries(
        {}, optional={"order": st.lists(st.integers(-1, 2**64), max_size=5) | json_values}
    )
    | json_values,
}
query = st.dictionaries(
    st.sampled_from(
        [
            "submitted_after",
            "submitted_before",
            "channel",
            "location",
            "language",
            "min_score",
            "max_score",
            "survey",
            "page_size",
            "cursor",
        ]
    ),
    st.one_of(any_text, st.sampled_from(["2025-05-01T00:00:00Z", "kiosk", "th", "5", "1"])),
    max_size=4,
)


@pytest.fixture
def targets(organisation):
    draft = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT)
    QuestionFactory(survey=draft, position=1, type=QuestionType.NPS)
    choice_question = QuestionFactory(survey=draft, position=2, type=QuestionType.SINGLE_CHOICE)
    choices = [ChoiceFactory(question=choice_question, position=p) for p in (1, 2)]
    ids = (organisation, draft.pk, choice_question.pk)
    return {
        "survey_create": ("post", api_url("survey_list", organisation)),
        "survey_update": ("patch", api_url("survey_detail", *ids[:2])),
        "question_add": ("post", api_url("survey_question_list", *ids[:2])),
        "question_update": ("patch", api_url("survey_question_detail", *ids)),
        "choice": ("patch", api_url("survey_choice_detail", *ids, choices[0].pk)),
        "order": ("post", api_url("survey_choice_reorder", *ids)),
    }


def _refused_or_taken(answer) -> None:
    assert answer.status_code < 500, answer.content
    if answer.status_code >= 400:
        assert answer["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("endpoint", list(bodies))
def test_no_body_makes_a_write_fail_with_a_server_error(client, organisation, targets, endpoint):
    client.force_login(StaffRoleFactory(organisation=organisation, role="owner").user)
    method, url = targets[endpoint]

    @FUZZ_SETTINGS
    @given(body=bodies[endpoint])
    def write(body):
        _refused_or_taken(getattr(client, method)(url, body, content_type="application/json"))

    write()


def test_no_filter_makes_a_response_list_fail_with_a_server_error(api, organisation):
    url = api_url("response_list", organisation)

    @FUZZ_SETTINGS
    @given(params=query)
    def read(params):
        _refused_or_taken(api.get(url, params))

    read()
