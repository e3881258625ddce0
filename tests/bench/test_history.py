"""bench_seed --history: the year of answers a hot-path benchmark can run against is what
its docstring says it is, on both databases (raw SQL over a number series, per vendor)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.baseline.history import SPACING_S, history_seed
from bench.baseline.management.commands.bench_seed import SPECS, survey_create
from communities.models import Community, OutboundEmail
from surveys.choices import QuestionType
from surveys.models import Answer, Response
from tests.factories.communities import CommunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def community() -> Community:
    return CommunityFactory()


def past_survey(community: Community):
    return survey_create(
        org=community.organisation, community=community, title="History", specs=SPECS, points=0
    )


def test_each_past_response_has_its_four_answers_and_two_chosen_choices(community):
    # given: the benchmark's survey
    survey = past_survey(community)
    # when: twelve answers from the past are seeded
    written = history_seed(survey=survey, count=12, analyze=False)
    # then: twelve responses, each with one answer per question and a choice per choice question
    assert written == {"responses": 12, "answers": 48, "choices": 24, "emails": 2}
    responses = Response.objects.filter(survey=survey)
    assert responses.count() == 12
    for response in responses.prefetch_related("answers__choices", "answers__question"):
        answers = {a.question.type: a for a in response.answers.all()}
        assert sorted(answers) == sorted(spec[0] for spec in SPECS)
        assert 0 <= answers[QuestionType.NPS].number <= 10
        for kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE):
            (choice,) = answers[kind].choices.all()
            assert choice.question_id == answers[kind].question_id
        assert response.organisation_id == survey.organisation_id
        assert response.channel == survey.channels.get()
        assert response.member_id is None and response.is_anonymous


def test_past_answers_are_thirty_seconds_apart_and_one_in_five_says_something(community):
    survey = past_survey(community)
    history_seed(survey=survey, count=10, analyze=False)
    times = list(
        Response.objects.filter(survey=survey)
        .order_by("-submitted_at")
        .values_list("submitted_at", "submitted_on", "analysed_at")
    )
    gaps = {a[0] - b[0] for a, b in zip(times, times[1:], strict=False)}
    assert gaps == {timedelta(seconds=SPACING_S)}
    assert all(on == at.date() and analysed == at for at, on, analysed in times)
    texts = Answer.objects.filter(response__survey=survey, question__type=QuestionType.TEXT)
    said = texts.exclude(text="")
    assert said.count() == 2 and all(a.sentiment is not None for a in said)


def test_one_in_five_had_a_follow_up_email_that_was_sent(community):
    survey = past_survey(community)
    history_seed(survey=survey, count=10, analyze=False)
    emails = OutboundEmail.objects.filter(organisation=survey.organisation)
    assert emails.count() == 2
    assert set(emails.values_list("status", flat=True)) == {"sent"}
    assert all(e.sent_at is not None for e in emails)


def test_a_second_history_adds_to_the_first(community):
    # given: a history seeded before
    survey = past_survey(community)
    history_seed(survey=survey, count=5, analyze=False)
    # when: another survey gets one of its own
    written = history_seed(survey=past_survey(community), count=5, analyze=False)
    # then: its rows are added beside the first's
    assert written == {"responses": 5, "answers": 20, "choices": 10, "emails": 1}
    assert Response.objects.filter(survey__organisation=survey.organisation).count() == 10
    assert OutboundEmail.objects.filter(organisation=survey.organisation).count() == 2
