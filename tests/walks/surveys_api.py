"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py: the surveys API
(surveys, polls, their questions and answers to choose from) and the responses API.

Owners, admins and analysts read; owners and admins write, as on the staff builder. An id
maker returns the object the route's last id names, or a tuple of objects whose ids fill
the route's ids in order (…/surveys/<pk>/questions/<qid>/). The routes that were there
before (survey_list, survey_detail, survey_response_list) keep their entries in
tests/communities/test_roles.py. Deleting (204) is walked in tests/surveys/api/.

ACCESS: staff page route name -> roles; OBJECT_FOR: route -> maker of the object its id
names; POST_ONLY: routes visited with POST; API_ACCESS: api route -> (roles, id maker or
None); API_WRITE_ACCESS: (method, api route) -> (roles, id maker or None, a valid body).
"""

from communities.choices import Role
from surveys.choices import QuestionType, SurveyStatus
from tests.factories.surveys import ChoiceFactory, QuestionFactory, ResponseFactory, SurveyFactory

MANAGE = frozenset({Role.OWNER, Role.ADMIN})
READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})


def _survey(org):
    return SurveyFactory(organisation=org)


def _draft(org):
    return SurveyFactory(organisation=org, status=SurveyStatus.DRAFT)


def _ready_draft(org):
    survey = _draft(org)
    QuestionFactory(survey=survey, type=QuestionType.NPS, text={"en": "Recommend us?"})
    return survey


def _question(org, status=SurveyStatus.LIVE, type=QuestionType.STAR):
    survey = SurveyFactory(organisation=org, status=status)
    return survey, QuestionFactory(survey=survey, type=type)


def _draft_question(org):
    return _question(org, SurveyStatus.DRAFT)


def _choice_question(org, status=SurveyStatus.LIVE):
    return _question(org, status, QuestionType.SINGLE_CHOICE)


def _choice(org, status=SurveyStatus.LIVE):
    survey, question = _choice_question(org, status)
    ChoiceFactory(question=question)
    return survey, question, ChoiceFactory(question=question)


def _response(org):
    return ResponseFactory(survey=_survey(org))


ACCESS: dict = {}
OBJECT_FOR: dict = {}
POST_ONLY: set = set()
API_ACCESS: dict = {
    "api:survey_question_list": (READ, _survey),
    "api:survey_question_detail": (READ, _question),
    "api:survey_choice_list": (READ, _choice_question),
    "api:survey_choice_detail": (READ, _choice),
    "api:response_list": (READ, None),
    "api:response_detail": (READ, _response),
}
API_WRITE_ACCESS: dict = {
    ("post", "api:survey_list"): (
        MANAGE,
        None,
        {"title": {"en": "After your visit"}, "languages": ["en"]},
    ),
    ("patch", "api:survey_detail"): (MANAGE, _survey, {"points": 25}),
    ("post", "api:survey_publish"): (MANAGE, _ready_draft, {}),
    ("post", "api:survey_close"): (MANAGE, _survey, {}),
    ("post", "api:survey_duplicate"): (MANAGE, _survey, {}),
    ("post", "api:survey_question_list"): (
        MANAGE,
        _draft,
        {"type": "star", "text": {"en": "Rate your visit"}},
    ),
    # An empty draft's order is the empty list: a valid body without knowing any id.
    ("post", "api:survey_question_reorder"): (MANAGE, _draft, {"order": []}),
    ("patch", "api:survey_question_detail"): (MANAGE, _draft_question, {"required": False}),
    ("post", "api:survey_choice_list"): (
        MANAGE,
        lambda org: _choice_question(org, SurveyStatus.DRAFT),
        {"label": {"en": "Something else"}},
    ),
    ("post", "api:survey_choice_reorder"): (
        MANAGE,
        lambda org: _choice_question(org, SurveyStatus.DRAFT),
        {"order": []},
    ),
    ("patch", "api:survey_choice_detail"): (
        MANAGE,
        lambda org: _choice(org, SurveyStatus.DRAFT),
        {"label": {"en": "Renamed"}},
    ),
}
