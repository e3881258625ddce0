"""The Django side of `make bench-export`: seeding, the timed exports and their checks.

bench/export.py never imports Django: it runs this file as a subprocess under the settings
and the virtualenv being measured (`python bench/export_django.py <command> …`, with
DJANGO_SETTINGS_MODULE=bench.baseline.settings and the run's DATABASE_URL). Each command
prints one JSON line. PostgreSQL or SQLite (the seed's SQL is written for each).

  seed   an organisation (Asia/Bangkok, k = 5) with 30 stores (two of them with 3
         responses only, so small groups are blanked), 20,000 members, and one survey per
         --responses size (NPS, stars, a single and a multiple choice, a text question):
         responses spread over a year through kiosks (anonymous), the public link and
         email (members, a third consenting), 3-5 answers and 1-3 chosen choices each,
         written by INSERT … SELECT over generate_series, then ANALYZE.
  sql    the export's statement for a survey as Chorus runs it under COPY, with its session
         settings, and the earlier pivot statement (GROUP BY over the joined answers,
         finished in Python), for the baseline's COPY.
  csv    GET …/export.csv through Django's test client, the streamed body consumed fully:
         seconds, bytes, rows, peak RSS of this process (and its RSS before the request).
  xlsx   an XLSX (or --format csv) file job run in this process (the service the worker
         task calls): seconds, rows, file size, peak RSS; the sheet's rows counted back.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from communities.choices import Role  # noqa: E402
from communities.models import (  # noqa: E402
    Community,
    Location,
    Member,
    Organisation,
    StaffRole,
    User,
)
from surveys.choices import ChannelKind, QuestionType, SurveyStatus  # noqa: E402
from surveys.exports.copy import copy_statement, session_settings  # noqa: E402
from surveys.exports.params import ExportParams  # noqa: E402
from surveys.exports.rows import export_pivot  # noqa: E402
from surveys.exports.selectors import responses_export_plan  # noqa: E402
from surveys.exports.services import export_job_run  # noqa: E402
from surveys.models import (  # noqa: E402
    Answer,
    Channel,
    Choice,
    ExportJob,
    ExportStatus,
    Question,
    Response,
    Survey,
)

ORG_SLUG = "bench-export"
STAFF_EMAIL = "exporter@example.com"
STORES = 30
TINY_STORES = 2
TINY_RESPONSES = 3
MEMBERS = 20_000
LANGUAGES = ("en", "th", "he", "ja")


def out(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, default=str), flush=True)


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _survey_create(organisation: Organisation, community: Community, n: int) -> Survey:
    survey = Survey.objects.create(
        organisation=organisation,
        community=community,
        title={"en": f"Bench export {n}", "th": f"ส่งออก {n}"},
        status=SurveyStatus.LIVE,
        languages=list(LANGUAGES),
    )
    texts = {
        QuestionType.NPS: "How likely are you to recommend us?",
        QuestionType.STAR: "Rate your visit",
        QuestionType.SINGLE_CHOICE: "Why did you come?",
        QuestionType.MULTI_CHOICE: "What did you like?",
        QuestionType.TEXT: "Anything else?",
    }
    for position, (qtype, text) in enumerate(texts.items(), start=1):
        question = Question.objects.create(
            organisation=organisation,
            survey=survey,
            position=position,
            type=qtype,
            text={"en": text, "th": f"{text} (TH)"},
        )
        if qtype in (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE):
            for cpos, label in enumerate(("Coffee", "Cake", "Wi-Fi", "Music", "Staff"), 1):
                Choice.objects.create(
                    organisation=organisation,
                    question=question,
                    position=cpos,
                    label={"en": label, "th": f"{label} TH"},
                )
    return survey


SEED_SQL = """
INSERT INTO surveys_response (organisation_id, survey_id, channel_id, member_id, location_id,
    language, submitted_at, submitted_on, is_anonymous, consent_to_contact, idempotency_key)
SELECT %(org)s, %(survey)s,
    CASE WHEN g %% 10 < 6 THEN %(kiosk0)s + g %% %(stores)s
         WHEN g %% 10 < 9 THEN %(link)s ELSE %(email)s END,
    CASE WHEN g %% 10 < 6 THEN NULL ELSE %(member0)s + g %% %(members)s END,
    CASE WHEN g %% 10 < 6 THEN %(store0)s + g %% %(stores)s END,
    CASE g %% 4 WHEN 0 THEN 'en' WHEN 1 THEN 'th' WHEN 2 THEN 'he' ELSE 'ja' END,
    now() - g * interval '31 seconds',
    (now() - g * interval '31 seconds')::date,
    g %% 10 < 6,
    g %% 10 >= 6 AND g %% 3 = 0,
    md5(%(key)s || ':' || g)
FROM generate_series(1, %(n)s) AS g
"""
# The same rows on SQLite: a recursive CTE for generate_series, UTC text for the times.
_SQLITE_AGO = "'now', '-' || (g * 31) || ' seconds'"
SQLITE_SEED_SQL = (
    "WITH RECURSIVE gen(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM gen WHERE g < %(n)s)\n"
    + SEED_SQL.replace(
        "now() - g * interval '31 seconds',\n    (now() - g * interval '31 seconds')::date",
        f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', {_SQLITE_AGO}),\n    date({_SQLITE_AGO})",
    )
    .replace("md5(%(key)s || ':' || g)", "%(key)s || ':' || g")
    .replace("FROM generate_series(1, %(n)s) AS g", "FROM gen")
)

ANSWERS_SQL = """
INSERT INTO surveys_answer (organisation_id, response_id, question_id, question_type, number,
    text, sentiment)
SELECT r.organisation_id, r.id, q.id, q.type,
    CASE q.type WHEN 'nps' THEN (r.id * 7) %% 11 WHEN 'star' THEN 1 + r.id %% 5 END,
    CASE WHEN q.type = 'text' THEN
        CASE WHEN r.id %% 50 = 0 THEN '=cmd|'' /C calc''!A0' ELSE 'Comment number ' || r.id END
    ELSE '' END,
    CASE WHEN q.type = 'text' THEN ((r.id %% 21) - 10) / 10.0 END
FROM surveys_response r JOIN surveys_question q ON q.survey_id = r.survey_id
WHERE r.survey_id = %(survey)s
  AND (q.type IN ('nps', 'single_choice')
       OR (q.type = 'star' AND r.id %% 10 <> 0)
       OR (q.type = 'multi_choice' AND r.id %% 2 = 0)
       OR (q.type = 'text' AND r.id %% 10 < 3))
"""

CHOICES_SQL = """
INSERT INTO surveys_answer_choices (answer_id, choice_id)
SELECT a.id, c.id
FROM surveys_answer a
JOIN surveys_choice c ON c.question_id = a.question_id
WHERE a.organisation_id = %(org)s AND a.question_id IN (%(single)s, %(multi)s)
  AND a.response_id IN (SELECT id FROM surveys_response WHERE survey_id = %(survey)s)
  AND (c.position = 1 + a.response_id %% 5
       OR (a.question_id = %(multi)s AND c.position = 1 + (a.response_id + 2) %% 5
           AND a.response_id %% 3 = 0))
"""


def seed(sizes: list[int]) -> None:
    started = time.monotonic()
    organisation = Organisation.objects.create(
        name="Bench Export", slug=ORG_SLUG, min_group_size=5, time_zone="Asia/Bangkok"
    )
    community = Community.objects.create(organisation=organisation, name="Bench", slug="bench")
    user = User.objects.create(email=STAFF_EMAIL, name="Exporter")
    StaffRole.objects.create(user=user, organisation=organisation, role=Role.ANALYST)
    stores = Location.objects.bulk_create(
        Location(organisation=organisation, name=f"Store {i:02d}", code=f"store-{i:02d}")
        for i in range(STORES)
    )
    members = Member.objects.bulk_create(
        (
            Member(
                organisation=organisation,
                community=community,
                email=f"member{i}@example.com",
                name=f"Member {i}",
            )
            for i in range(MEMBERS)
        ),
        batch_size=5000,
    )
    surveys = {}
    for n in sizes:
        survey = _survey_create(organisation, community, n)
        busy = STORES - TINY_STORES
        kiosks = Channel.objects.bulk_create(
            Channel(
                organisation=organisation,
                survey=survey,
                kind=ChannelKind.KIOSK,
                location=store,
                device_token=f"bench-{survey.pk}-{store.pk}",
            )
            for store in stores
        )
        link = Channel.objects.create(organisation=organisation, survey=survey, kind="link")
        email = Channel.objects.create(organisation=organisation, survey=survey, kind="email")
        questions = {q.type: q.pk for q in survey.questions.all()}
        # Ids are consecutive within one bulk_create on PostgreSQL.
        params = {
            "org": organisation.pk,
            "survey": survey.pk,
            "kiosk0": kiosks[0].pk,
            "store0": stores[0].pk,
            "stores": busy,
            "link": link.pk,
            "email": email.pk,
            "member0": members[0].pk,
            "members": MEMBERS,
            "n": n - TINY_STORES * TINY_RESPONSES,
            "key": str(survey.pk),
            "single": questions[QuestionType.SINGLE_CHOICE],
            "multi": questions[QuestionType.MULTI_CHOICE],
        }
        seed_sql = SEED_SQL if connection.vendor == "postgresql" else SQLITE_SEED_SQL
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(seed_sql, params)
            for tiny in range(busy, STORES):
                cursor.execute(
                    seed_sql.replace("g %% %(stores)s", str(tiny)).replace("%(n)s", "%(tiny)s"),
                    {**params, "tiny": TINY_RESPONSES, "key": f"{survey.pk}-tiny-{tiny}"},
                )
            cursor.execute(ANSWERS_SQL, params)
            cursor.execute(CHOICES_SQL, params)
        surveys[n] = survey.pk
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The answers' INSERTs above made the triggers rewrite every response's cells
            # (surveys 0010), twice; the submit path writes a response once, cells and all,
            # so the table is compacted to what a million submits leave.
            cursor.execute("VACUUM FULL surveys_response")
        cursor.execute("ANALYZE")
    out(
        {
            "surveys": surveys,
            "responses": {
                n: Response.objects.filter(survey_id=pk).count() for n, pk in surveys.items()
            },
            "answers": Answer.objects.filter(organisation=organisation).count(),
            "seconds": round(time.monotonic() - started, 1),
        }
    )


def _plan(survey_id: int):
    organisation = Organisation.objects.get(slug=ORG_SLUG)
    survey = Survey.objects.get(pk=survey_id)
    return responses_export_plan(
        organisation=organisation, survey=survey, params=ExportParams(labels="en")
    )


def sql(survey_id: int) -> None:
    plan = _plan(survey_id)
    if connection.vendor != "postgresql":
        # The pivot Chorus reads on SQLite, for the sqlite3 module's own read of it.
        pivot, pivot_params = export_pivot(plan=plan).query.sql_with_params()
        out(
            {
                "pivot_sql": pivot % tuple("?" * len(pivot_params)),
                "pivot_params": list(pivot_params),
                "rows_total": plan.rows_total,
            }
        )
        return
    statement, params = copy_statement(plan=plan)
    session, session_params = session_settings(plan=plan)
    pivot, pivot_params = export_pivot(plan=plan).query.sql_with_params()
    out(
        {
            "sql": statement,
            "params": params,
            # The session settings Chorus runs it under (surveys.exports.copy).
            "settings": session,
            "settings_params": session_params,
            "pivot_sql": pivot,
            "pivot_params": list(pivot_params),
            "rows_total": plan.rows_total,
        }
    )


def csv_export(survey_id: int) -> None:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=STAFF_EMAIL))
    url = reverse("staff:survey_export_csv", args=[ORG_SLUG, survey_id])
    # A warm-up on a filter matching nothing: templates, URL resolver, first queries.
    client.get(url, {"language": "ja", "since": "2999-01-01"})
    before = rss_mb()
    started = time.monotonic()
    response = client.get(url, {"labels": "en"})
    size = lines = 0
    first = b""
    for piece in response.streaming_content:
        if not first:
            first = piece[:400]
        size += len(piece)
        lines += piece.count(b"\n")
    seconds = time.monotonic() - started
    out(
        {
            "status": response.status_code,
            "seconds": round(seconds, 3),
            "bytes": size,
            "rows": lines - 1,
            "rss_before_mb": before,
            "peak_rss_mb": peak_rss_mb(),
            "bom": first.startswith("\ufeff".encode()),
            "header": first.decode("utf-8", "replace").splitlines()[0],
        }
    )


def _count(stream, token: bytes) -> int:
    """How often `token` occurs in a stream read a megabyte at a time (a token split
    between two reads is counted once: each read is searched with the previous one's end)."""
    count, tail = 0, b""
    while chunk := stream.read(1 << 20):
        data = tail + chunk
        count += data.count(token)
        # Shorter than the token: an occurrence is never counted in two reads.
        tail = data[-(len(token) - 1) :] if len(token) > 1 else b""
    return count


def file_export(survey_id: int, format: str) -> None:
    organisation = Organisation.objects.get(slug=ORG_SLUG)
    job = ExportJob.objects.create(
        organisation=organisation,
        survey_id=survey_id,
        requested_by=User.objects.get(email=STAFF_EMAIL),
        params={"labels": "en"},
        format=format,
    )
    before = rss_mb()
    started = time.monotonic()
    status = export_job_run(job_id=job.pk)
    seconds = time.monotonic() - started
    job.refresh_from_db()
    path = Path(settings.MEDIA_ROOT) / job.file_path
    rows = None
    if status == ExportStatus.DONE and format == "xlsx":
        with zipfile.ZipFile(path) as book, book.open("xl/worksheets/sheet1.xml") as sheet:
            rows = _count(sheet, b"<row ") - 1
    elif status == ExportStatus.DONE:
        with open(path, "rb") as handle:
            rows = _count(handle, b"\n") - 1
    out(
        {
            "status": status,
            "seconds": round(seconds, 3),
            "rows_written": job.rows_total,
            "rows_read_back": rows,
            "bytes": path.stat().st_size if status == ExportStatus.DONE else 0,
            "rss_before_mb": before,
            "peak_rss_mb": peak_rss_mb(),
        }
    )
    if status == ExportStatus.DONE:
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    seeding = sub.add_parser("seed")
    seeding.add_argument("--responses", type=int, nargs="+", required=True)
    for name in ("sql", "csv", "xlsx"):
        command = sub.add_parser(name)
        command.add_argument("--survey", type=int, required=True)
        if name == "xlsx":
            command.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    args = parser.parse_args()
    if args.command == "seed":
        seed(args.responses)
    elif args.command == "sql":
        sql(args.survey)
    elif args.command == "csv":
        csv_export(args.survey)
    else:
        file_export(args.survey, args.format)


if __name__ == "__main__":
    main()
