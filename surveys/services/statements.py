"""The statements of the answering hot path, one function each (see config.sql).

A submit is a handful of these in one transaction, with no savepoint and no read before a
write that a unique constraint already guards (tests/surveys/test_statements.py runs each
on both databases).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import connection

from config.sql import insert_rows
from surveys.models import Answer, Participation, Response, SurveyInvitation


def response_insert(
    *,
    organisation_id: int,
    survey_id: int,
    channel_id: int | None,
    member_id: int | None,
    invitation_id: int | None,
    location_id: int | None,
    language: str,
    submitted_at: datetime,
    submitted_on: date,
    is_anonymous: bool,
    consent_to_contact: bool,
    idempotency_key: str,
    analysed_at: datetime | None,
) -> int | None:
    """The response row; None when the survey already has one under this key."""
    rows = insert_rows(
        Response,
        [
            {
                "organisation": organisation_id,
                "survey": survey_id,
                "channel": channel_id,
                "member": member_id,
                "invitation": invitation_id,
                "location": location_id,
                "language": language,
                "submitted_at": submitted_at,
                "submitted_on": submitted_on,
                "is_anonymous": is_anonymous,
                "consent_to_contact": consent_to_contact,
                "idempotency_key": idempotency_key,
                "analysed_at": analysed_at,
            }
        ],
        conflict=("survey", "idempotency_key"),
        returning=("id",),
    )
    return rows[0][0] if rows else None


def answers_insert(
    *, organisation_id: int, response_id: int, answers: Iterable[dict[str, Any]]
) -> dict[int, int]:
    """Every answer of a response in one INSERT; {question_id: answer_id}.

    Each answer is {"question": id, "question_type": …, "number": …, "text": …,
    "sentiment": …}. Matched back by question (one answer per question), since neither
    database promises RETURNING rows in insertion order.
    """
    rows = [
        {
            "organisation": organisation_id,
            "response": response_id,
            "question": a["question"],
            "question_type": a["question_type"],
            "number": a.get("number"),
            "text": a.get("text", ""),
            "sentiment": a.get("sentiment"),
        }
        for a in answers
    ]
    return {qid: pk for pk, qid in insert_rows(Answer, rows, returning=("id", "question"))}


def answer_choices_insert(*, pairs: Iterable[tuple[int, int]]) -> None:
    """The chosen choices, (answer_id, choice_id) each, in one INSERT."""
    through = Answer.choices.through
    insert_rows(through, [{"answer": a, "choice": c} for a, c in pairs])


def participation_insert(
    *, organisation_id: int, survey_id: int, member_id: int, day: date, points_pending: int
) -> bool:
    """That the member took part; False when they had already (one row per member)."""
    rows = insert_rows(
        Participation,
        [
            {
                "id": uuid.uuid4(),
                "organisation": organisation_id,
                "survey": survey_id,
                "member": member_id,
                "completed_on": day,
                "points_pending": points_pending,
            }
        ],
        conflict=("survey", "member"),
        returning=("id",),
    )
    return bool(rows)


def invitation_claim(*, invitation_id: int, at: datetime) -> bool:
    """Mark a personal link answered, once: False when another device got there first.

    The UPDATE waits on a concurrent claim's row lock and then re-checks the condition, so
    of two devices sending one link at once exactly one claims it.
    """
    qn = connection.ops.quote_name
    meta = SurveyInvitation._meta
    responded = qn(meta.get_field("responded_at").column)
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {responded} = %s "
        f"WHERE {qn(meta.pk.column)} = %s AND {responded} IS NULL"
    )
    stamp = meta.get_field("responded_at").get_db_prep_save(at, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [stamp, invitation_id])
        return cursor.rowcount == 1
