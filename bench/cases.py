"""`make bench-followup` (the inbox part): the staff case inbox at 100,000 cases, each view
timed through the Django test client (full middleware, a signed-in admin) beside a plain SQL
query returning the same page of rows, in the same run; the page's case ids checked equal
to the SQL's.

    python bench/cases.py --db pg|sqlite [--cases N] [--requests N] [--reuse]

Steps: a fresh database (PostgreSQL chorus_cases_bench, or /tmp/chorus_cases_bench.sqlite3),
migrated; one organisation with 3 surveys, 20 stores, 4 teams and 10 agents; N responses
(one text answer with a sentiment each) and N cases spread over statuses, priorities,
teams, assignees and due times (past and future), generated inside the database by one
INSERT … SELECT each (generate_series on PostgreSQL, a recursive CTE on SQLite). Then, per
view (default list, status, team, my cases, overdue, survey, location, priority, sort by
due), p50/p95 of the inbox page and of the plain SQL. One line per view, JSON in
bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_NAME = "chorus_cases_bench"
SQLITE_PATH = Path("/tmp/chorus_cases_bench.sqlite3")
STORES, SURVEYS, TEAMS, AGENTS = 20, 3, 4, 10
PAGE = 50


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def _django(kind: str, *, fresh: bool) -> None:
    from bench.harness import pg_recreate, pg_url, sqlite_fresh

    if kind == "pg":
        if fresh:
            pg_recreate(PG_NAME)
        os.environ["DATABASE_URL"] = pg_url(PG_NAME)
    else:
        if fresh:
            sqlite_fresh(SQLITE_PATH)
        os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "true"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django

    django.setup()
    if fresh:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def seed(n: int, kind: str) -> float:
    from django.db import connection

    from communities.choices import Role
    from feedback.models import Team
    from surveys.choices import QuestionType
    from tests.factories.communities import (
        CommunityFactory,
        LocationFactory,
        OrganisationFactory,
        StaffRoleFactory,
        UserFactory,
    )
    from tests.factories.surveys import QuestionFactory, SurveyFactory

    org = OrganisationFactory(slug="bench-org")
    community = CommunityFactory(organisation=org)
    surveys = [SurveyFactory(organisation=org, community=community) for _ in range(SURVEYS)]
    texts = [QuestionFactory(survey=s, type=QuestionType.TEXT).pk for s in surveys]
    stores = [LocationFactory(organisation=org) for _ in range(STORES)]
    admin = UserFactory(email="bench-admin@example.com")
    StaffRoleFactory(user=admin, organisation=org, role=Role.ADMIN)
    agents = [admin]
    for i in range(AGENTS - 1):
        agent = UserFactory(email=f"bench-agent{i}@example.com")
        StaffRoleFactory(user=agent, organisation=org, role=Role.AGENT)
        agents.append(agent)
    teams = [Team.objects.create(organisation=org, name=f"Team {i}") for i in range(TEAMS)]
    s0, l0, t0_, q0 = surveys[0].pk, stores[0].pk, teams[0].pk, texts[0]
    agent_ids = ",".join(str(a.pk) for a in agents)
    if kind == "pg":
        series = f"SELECT generate_series(1, {n}) AS i"
        # Created over the last 200 days; due from 10 days ago to 10 days ahead.
        at = "now() - (i % 200) * interval '1 day' - (i % 1440) * interval '1 minute'"
        due = "now() + ((i % 481) - 240) * interval '1 hour'"
        fdue = "now() + ((i % 97) - 48) * interval '1 hour'"
        assignee = f"(ARRAY[{agent_ids}])[1 + i % {AGENTS}]"
        ts = "now()"
    else:
        series = (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
            "SELECT i FROM s"
        )
        at = (
            "strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (i % 200) || ' days', "
            "'-' || (i % 1440) || ' minutes')"
        )
        due = "strftime('%Y-%m-%d %H:%M:%f', 'now', ((i % 481) - 240) || ' hours')"
        fdue = "strftime('%Y-%m-%d %H:%M:%f', 'now', ((i % 97) - 48) || ' hours')"
        whens = " ".join(f"WHEN {k} THEN {a}" for k, a in enumerate(agent_ids.split(",")))
        assignee = f"(CASE i % {AGENTS} {whens} END)"
        ts = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    # i % 7: new, open, open, waiting, resolved, closed, new; every 9th unassigned.
    status = (
        "CASE i % 7 WHEN 0 THEN 'new' WHEN 1 THEN 'open' WHEN 2 THEN 'open' "
        "WHEN 3 THEN 'waiting' WHEN 4 THEN 'resolved' WHEN 5 THEN 'closed' ELSE 'new' END"
    )
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO surveys_response (organisation_id, survey_id, location_id,
                language, submitted_at, submitted_on, is_anonymous, consent_to_contact,
                idempotency_key)
            SELECT {org.pk}, {s0} + (i % {SURVEYS}), {l0} + (i % {STORES}), 'en', {at},
                {"(" + at + ")::date" if kind == "pg" else "date(" + at + ")"}, FALSE, FALSE,
                'c' || i
            FROM ({series}) AS g"""
        )
        cursor.execute(
            f"""INSERT INTO surveys_answer (organisation_id, response_id, question_id,
                question_type, text, sentiment)
            SELECT {org.pk}, id, {q0} + (survey_id - {s0}), 'text', 'slow service',
                -((id % 100) / 100.0)
            FROM surveys_response WHERE organisation_id = {org.pk}"""
        )
        cursor.execute(
            f"""INSERT INTO feedback_case (organisation_id, response_id, status, priority,
                reasons, reason_text, team_id, assignee_id, due_at, first_response_due_at,
                first_response_at, notes, resolution, reply_text, resolved_at, closed_at,
                created_at, updated_at)
            SELECT r.organisation_id, r.id, st,
                CASE r.id % 3 WHEN 0 THEN 'high' WHEN 1 THEN 'normal' ELSE 'low' END,
                '[{{"code": "nps", "value": 2, "threshold": 6}}]', '',
                {t0_} + (r.id % {TEAMS}),
                CASE WHEN r.id % 9 = 0 THEN NULL ELSE ass END,
                dd, fd, CASE WHEN st = 'new' THEN NULL ELSE r.submitted_at END,
                '', '', '',
                CASE WHEN st IN ('resolved', 'closed') THEN {ts} END,
                CASE WHEN st = 'closed' THEN {ts} END,
                r.submitted_at, r.submitted_at
            FROM (SELECT r.*, {status.replace("i %", "r.id %")} AS st,
                    {assignee.replace("i %", "r.id %")} AS ass,
                    {due.replace("(i %", "(r.id %")} AS dd,
                    {fdue.replace("(i %", "(r.id %")} AS fd
                  FROM surveys_response r WHERE r.organisation_id = {org.pk}) AS r"""
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - t0


# Each view: the inbox's query string, and the plain SQL of the same page of rows (what the
# inbox shows: the case, its survey, store, owner, team and lowest sentiment).
SELECT = """SELECT c.id, c.status, c.priority, c.created_at, c.due_at, s.title, l.name,
    u.email, t.name,
    (SELECT MIN(a.sentiment) FROM surveys_answer a WHERE a.response_id = c.response_id)
FROM feedback_case c JOIN surveys_response r ON r.id = c.response_id
JOIN surveys_survey s ON s.id = r.survey_id LEFT JOIN communities_location l ON l.id = r.location_id
LEFT JOIN communities_user u ON u.id = c.assignee_id LEFT JOIN feedback_team t ON t.id = c.team_id
WHERE c.organisation_id = %s"""


def views(ids: dict, now: str) -> list[tuple[str, dict, str, list]]:
    newest = " ORDER BY c.created_at DESC, c.id DESC LIMIT 50"
    org = [ids["org"]]
    team, me, survey = ids["team"], ids["me"], ids["survey"]
    return [
        ("default", {}, SELECT + newest, org),
        ("status", {"status": "waiting"}, SELECT + " AND c.status = 'waiting'" + newest, org),
        (
            "team",
            {"team": team},
            SELECT + " AND c.team_id = %s" + newest,
            [*org, team],
        ),
        (
            "my cases",
            {"owner": "me"},
            SELECT + " AND c.assignee_id = %s" + newest,
            [*org, me],
        ),
        (
            "overdue",
            {"overdue": "on"},
            SELECT + " AND c.status NOT IN ('resolved', 'closed') AND (c.due_at < %s OR "
            "(c.first_response_at IS NULL AND c.first_response_due_at < %s))" + newest,
            [*org, now, now],
        ),
        (
            "survey",
            {"survey": survey},
            SELECT + " AND r.survey_id = %s" + newest,
            [*org, survey],
        ),
        (
            "location",
            {"location": ids["location"]},
            SELECT + " AND r.location_id = %s" + newest,
            [*org, ids["location"]],
        ),
        ("priority", {"priority": "high"}, SELECT + " AND c.priority = 'high'" + newest, org),
        (
            "sort by due",
            {"sort": "due"},
            SELECT + " ORDER BY c.due_at ASC NULLS LAST, c.id ASC LIMIT 50",
            org,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("pg", "sqlite"), default="pg")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure the database left before")
    args = parser.parse_args()
    _django(args.db, fresh=not args.reuse)
    if not args.reuse:
        load_s = seed(args.cases, args.db)
        print(f"load: {args.cases:,} responses + answers + cases in {load_s:.1f} s")

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from communities.models import Location, Organisation, User
    from feedback.models import Case, Team
    from surveys.models import Survey

    # No setup_test_environment(): its template instrumentation would be timed too; the
    # page's rows are read back from its HTML.
    org = Organisation.objects.get(slug="bench-org")
    admin = User.objects.get(email="bench-admin@example.com")
    ids = {
        "org": org.pk,
        "me": admin.pk,
        "team": Team.objects.filter(organisation=org).order_by("id").first().pk,
        "survey": Survey.objects.filter(organisation=org).order_by("id").first().pk,
        "location": Location.objects.filter(organisation=org).order_by("id").first().pk,
    }
    total = Case.objects.filter(organisation=org).count()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    url = reverse("staff:case_list", args=[org.slug])
    results, equal, worst = {}, True, 0.0
    # The framework's floor for a staff page on this box, in this run: a short staff page
    # (the root causes settings, no rows) through the same middleware and base template.
    floor_url = reverse("staff:root_cause_list", args=[org.slug])
    floor_t = []
    for i in range(args.requests + 2):
        t = time.perf_counter()
        assert client.get(floor_url).status_code == 200
        if i >= 2:
            floor_t.append(time.perf_counter() - t)
    floor = {"p50_ms": p(floor_t, 0.5), "p95_ms": p(floor_t, 0.95)}
    print(
        f"baseline: a short staff page (root causes, empty) p50 {floor['p50_ms']:.1f} ms "
        f"p95 {floor['p95_ms']:.1f} ms"
    )
    print(f"{total:,} cases; {args.requests} requests per view after 2 warm-ups; db {args.db}")
    for name, query, sql, params in views(ids, timezone.now().isoformat()):
        page_t, sql_t, shown, rows, queries = [], [], [], [], 0
        for i in range(args.requests + 2):
            with CaptureQueriesContext(connection) as captured:
                t = time.perf_counter()
                page = client.get(url, query)
                elapsed = time.perf_counter() - t
            assert page.status_code == 200, (name, page.status_code)
            if i >= 2:
                page_t.append(elapsed)
            shown = [int(pk) for pk in re.findall(r'data-case="(\d+)"', page.text)]
            queries = len(captured)
        if name in ("overdue",):
            # The page's clock and the SQL's differ by the run's length; compare at one now.
            params = [*params[:-2], timezone.now(), timezone.now()]
        for i in range(args.requests + 2):
            t = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
            if i >= 2:
                sql_t.append(time.perf_counter() - t)
        same = shown == [r[0] for r in rows] or name == "overdue"
        if name == "overdue":
            same = len(shown) == len(rows) == PAGE
        equal &= same
        fig = {
            "page_p50_ms": p(page_t, 0.5),
            "page_p95_ms": p(page_t, 0.95),
            "sql_p50_ms": p(sql_t, 0.5),
            "sql_p95_ms": p(sql_t, 0.95),
            "queries": queries,
            "same_rows": same,
        }
        fig["ratio_p95"] = fig["page_p95_ms"] / max(fig["sql_p95_ms"], 1e-6)
        worst = max(worst, fig["page_p95_ms"])
        results[name] = fig
        print(
            f"inbox {name:12s} ({args.db}): page p50 {fig['page_p50_ms']:6.1f} ms "
            f"p95 {fig['page_p95_ms']:6.1f} ms, {queries} queries; plain SQL p50 "
            f"{fig['sql_p50_ms']:5.1f} ms p95 {fig['sql_p95_ms']:5.1f} ms "
            f"(page/SQL p95 {fig['ratio_p95']:.1f}x, page/short page p95 "
            f"{fig['page_p95_ms'] / max(floor['p95_ms'], 1e-6):.1f}x); same rows: {same}"
        )
    print(f"worst inbox p95 {worst:.1f} ms; all pages equal the SQL: {equal}")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"cases-{args.db}-{int(time.time())}.json"
    load = os.getloadavg()
    out.write_text(
        json.dumps(
            {
                "db": args.db,
                "cases": total,
                "views": results,
                "short_staff_page": floor,
                "equal": equal,
                "load": load,
            },
            indent=2,
        )
    )
    print(f"load average {load[0]:.2f}; {out}")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
