"""A long text answer is scored for sentiment before the submit's transaction begins: on
SQLite everything inside that transaction holds the database's one write lock, which every
other answer waits on (issue 13). The score stored is the same."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

import surveys.services.writing as writing
from surveys.choices import QuestionType
from surveys.models import Answer
from tests.surveys.helpers import answers_for

# Real transactions: inside a test's own, every call would be inside one.
pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "The wait was terrible and the cup was cold."


def test_the_text_is_scored_before_the_transaction_and_stored_as_scored(
    survey, member_user, monkeypatch
):
    # given: the scorer, watched for whether a transaction is open when it runs
    scored, real = [], writing.sentiment_score

    def watched(text: str) -> float | None:
        scored.append((text, connection.in_atomic_block))
        return real(text)

    monkeypatch.setattr(writing, "sentiment_score", watched)
    client = Client()
    client.force_login(member_user)
    # when: a member answers with a text
    url = reverse("surveys:survey_respond", args=[survey.public_id])
    assert client.post(url, answers_for(survey, nps=9, text=TEXT)).status_code == 302
    # then: scored once, outside any transaction, and stored with that score
    assert scored == [(TEXT, False)]
    answer = Answer.objects.get(question__type=QuestionType.TEXT, response__survey=survey)
    assert answer.text == TEXT and answer.sentiment == pytest.approx(real(TEXT))
