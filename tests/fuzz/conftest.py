"""A survey that asks every kind of question, a kiosk for it and an open community with
attributes asked on joining: the pages the fuzz posts to, with everything they can check."""

from __future__ import annotations

import pytest
from django.apps import apps

from communities.choices import AttributeKind, JoinMode
from surveys.choices import Anonymity, QuestionType
from surveys.services import kiosk_register
from tests.factories.communities import AttributeDefinitionFactory, LocationFactory
from tests.factories.surveys import (
    ChoiceFactory,
    QuestionFactory,
    survey_with_every_question_type,
)

# Every row a respondent's post could write: a refused post must leave all of them as
# they were (nothing half saved).
WRITTEN_BY_RESPONDENTS = (
    "surveys.Response",
    "surveys.Answer",
    "surveys.PooledAnswer",
    "surveys.Participation",
    "surveys.SurveyInvitation",
    "communities.Member",
    "communities.ConsentRecord",
    "communities.OutboundEmail",
    "rewards.LedgerEntry",
    "feedback.Case",
)


def row_counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in WRITTEN_BY_RESPONDENTS}


def row_state() -> dict[str, object]:
    """Counts, and whether an invitation has been answered (an update, not a new row)."""
    invitations = apps.get_model("surveys.SurveyInvitation").objects
    return {**row_counts(), "answered": invitations.filter(responded_at__isnull=False).count()}


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings, monkeypatch):
    """The fuzz sends hundreds of posts a minute from one address: the pages' budgets
    would answer most of them 429 and the fuzz would reach nothing behind them."""
    settings.CHORUS = {**settings.CHORUS, "KIOSK_RATE_PER_MINUTE": 100_000}
    monkeypatch.setattr("communities.views.member_pages.JOIN_PER_IP_PER_HOUR", 100_000)
    monkeypatch.setattr("communities.views.member_pages.JOIN_PER_ADDRESS_PER_HOUR", 100_000)


@pytest.fixture
def every_question(organisation, community):
    """Live, one answer per respondent, anonymity the respondent's choice: the built-in
    five kinds plus CSAT, a 0–7 rating, yes/no, short text, a choice with an "other" box
    and a question shown only after a low score."""
    survey = survey_with_every_question_type(
        organisation=organisation,
        community=community,
        anonymity=Anonymity.RESPONDENT_CHOICE,
        points=10,
    )
    nps = survey.questions.get(type=QuestionType.NPS)
    extra = [
        (QuestionType.CSAT, {}),
        (QuestionType.RATING, {"min": 0, "max": 7}),
        (QuestionType.YES_NO, {}),
        (QuestionType.SHORT_TEXT, {"show_if": {"question": nps.pk, "op": "lte", "value": 6}}),
        (QuestionType.MULTI_CHOICE, {"other": True}),
    ]
    for position, (qtype, question_settings) in enumerate(extra, start=10):
        question = QuestionFactory(
            survey=survey,
            position=position,
            type=qtype,
            text={"en": f"Question {position}"},
            required=False,
            settings=question_settings,
        )
        if qtype == QuestionType.MULTI_CHOICE:
            for cpos, label in enumerate(("Tea", "Juice"), start=1):
                ChoiceFactory(question=question, position=cpos, label={"en": label})
    return survey


@pytest.fixture
def foreign_choice_ids(organisation, community) -> list[int]:
    """Choices of another survey of the same organisation: ids a forged post may name."""
    other = survey_with_every_question_type(organisation=organisation, community=community)
    return [choice.pk for question in other.questions.all() for choice in question.choices.all()]


@pytest.fixture
def kiosk(every_question):
    return kiosk_register(
        survey=every_question,
        location=LocationFactory(organisation=every_question.organisation),
    )


@pytest.fixture
def open_community(community):
    """Open to join, asking a city (choice), a birthday (date) and a shoe size (number)."""
    community.join_mode = JoinMode.OPEN
    community.save(update_fields=["join_mode"])
    AttributeDefinitionFactory(
        community=community,
        key="city",
        kind=AttributeKind.CHOICE,
        options=[{"value": "bangkok", "label": {"en": "Bangkok"}}],
        ask_on_join=True,
        required=True,
    )
    AttributeDefinitionFactory(
        community=community, key="birthday", kind=AttributeKind.DATE, ask_on_join=True
    )
    AttributeDefinitionFactory(
        community=community, key="shoe", kind=AttributeKind.NUMBER, ask_on_join=True
    )
    return community
