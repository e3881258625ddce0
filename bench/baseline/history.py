"""A year of answers already stored, for the hot-path benchmarks to run against
(bench_seed --history): what a store's database holds after a year, so that every index a
submit writes to is as deep as it will be, and every plan is the one PostgreSQL picks for
tables of that size.

The answers go to a survey of their own (the benchmark's questions), so the measured
surveys start empty and their checks count only what the run wrote. Each response has its
four answers and two chosen choices; one in five has a text answer; one in five a
follow-up email that was sent. Written in chunks of INSERT … SELECT over a number series,
on PostgreSQL (generate_series) and SQLite (a recursive CTE), and then, on PostgreSQL,
its tables ANALYZEd, as autovacuum would have done by then.
"""

from __future__ import annotations

import time

from django.db import connection

from surveys.choices import QuestionType
from surveys.models import Survey

CHUNK = 100_000
WRITTEN_TABLES = (
    "surveys_response",
    "surveys_answer",
    "surveys_answer_choices",
    "feedback_outboundemail",
)
# Thirty seconds apart: a million answers span the year before now.
SPACING_S = 30


def _series(lo: int, hi: int) -> tuple[str, list[int]]:
    """A `WITH` naming g(n) for n from lo to hi, and its parameters: put inside the INSERT,
    before its SELECT, as SQLite's driver counts the rows only of a statement that starts
    with INSERT."""
    if connection.vendor == "postgresql":
        return "WITH g(n) AS (SELECT generate_series(%s::bigint, %s::bigint)) ", [lo, hi]
    return (
        "WITH RECURSIVE g(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM g WHERE n < %s) ",
        [lo, hi],
    )


def _moment(epoch: int) -> tuple[str, str, list[int]]:
    """SQL for the n-th answer's time and its day (UTC), `epoch` seconds minus n spacings."""
    if connection.vendor == "postgresql":
        at = f"to_timestamp(%s - g.n * {SPACING_S})"
        return at, f"(({at}) AT TIME ZONE 'UTC')::date", [epoch, epoch]
    return (
        f"datetime(%s - g.n * {SPACING_S}, 'unixepoch')",
        f"date(%s - g.n * {SPACING_S}, 'unixepoch')",
        [epoch, epoch],
    )


def history_seed(*, survey: Survey, count: int, analyze: bool = True) -> dict[str, int]:
    """`count` responses to `survey` (with answers, choices and sent follow-up emails);
    returns how many rows of each it wrote. `analyze`: then ANALYZE the tables written
    (PostgreSQL), as autovacuum would have done by the time a store has a year of them."""
    channel = survey.channels.first()
    epoch = int(time.time())
    written = {"responses": 0, "answers": 0, "choices": 0, "emails": 0}
    choice_types = (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE)
    with connection.cursor() as cursor:
        for lo in range(1, count + 1, CHUNK):
            hi = min(count, lo + CHUNK - 1)
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM surveys_response")
            after_response = cursor.fetchone()[0]
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM surveys_answer")
            after_answer = cursor.fetchone()[0]
            series, series_params = _series(lo, hi)
            at, day, at_params = _moment(epoch)
            cursor.execute(
                "INSERT INTO surveys_response (organisation_id, survey_id, channel_id, "
                "language, submitted_at, submitted_on, is_anonymous, consent_to_contact, "
                f"idempotency_key, analysed_at) {series}SELECT %s, %s, %s, 'en', {at}, {day}, "
                f"%s, %s, 'history-' || g.n, {at} FROM g",
                [*series_params, survey.organisation_id, survey.pk, channel.pk]
                + at_params
                + [True, False, epoch],
            )
            written["responses"] += cursor.rowcount
            cursor.execute(
                "INSERT INTO surveys_answer (organisation_id, response_id, question_id, "
                "question_type, number, text, sentiment) SELECT r.organisation_id, r.id, q.id, "
                "q.type, CASE WHEN q.type = %s THEN r.id %% 11 END, "
                "CASE WHEN q.type = %s AND r.id %% 5 = 0 THEN %s ELSE '' END, "
                "CASE WHEN q.type = %s AND r.id %% 5 = 0 THEN 0.2 END "
                "FROM surveys_response r JOIN surveys_question q ON q.survey_id = r.survey_id "
                "WHERE r.survey_id = %s AND r.id > %s",
                [
                    QuestionType.NPS,
                    QuestionType.TEXT,
                    "The coffee was fine and the staff were kind.",
                    QuestionType.TEXT,
                    survey.pk,
                    after_response,
                ],
            )
            written["answers"] += cursor.rowcount
            cursor.execute(
                "INSERT INTO surveys_answer_choices (answer_id, choice_id) SELECT a.id, c.id "
                "FROM surveys_answer a JOIN surveys_question q ON q.id = a.question_id "
                "JOIN surveys_choice c ON c.question_id = q.id AND c.position = 1 + "
                "a.response_id %% 3 WHERE a.id > %s AND q.survey_id = %s AND q.type IN (%s, %s)",
                [after_answer, survey.pk, *choice_types],
            )
            written["choices"] += cursor.rowcount
            cursor.execute(
                "INSERT INTO feedback_outboundemail (organisation_id, to_email, "
                "template, context, language, subject, body_text, body_html, headers, status, "
                "attempts, last_error, idempotency_key, created_at, claimed_at, sent_at, "
                f"message_id) {series}SELECT %s, 'history-' || g.n || '@example.com', 'followup', "
                f"'{{}}', 'en', 'About your answer', 'Thank you.', '', '{{}}', 'sent', 1, '', "
                f"'history:' || %s || ':' || g.n, {at}, {at}, {at}, '' FROM g WHERE g.n %% 5 = 0",
                [*series_params, survey.organisation_id, str(survey.pk), epoch, epoch, epoch],
            )
            written["emails"] += cursor.rowcount
        if analyze and connection.vendor == "postgresql":
            # Only the tables written: statistics of others, taken while they are still
            # nearly empty, would steer later plans on them (a test database's, say).
            cursor.execute(f"ANALYZE {', '.join(WRITTEN_TABLES)}")
    return written
