"""Count the SQL one request runs on the answering hot path, in-process, through public URLs.

Django's test Client (no server, CSRF not enforced) sends, as a browser or a kiosk would:

* a survey submit (`POST /s/<public_id>/`) by a promoter and by a detractor (NPS 3, consent
  ticked), each a fresh member signed in with a session of their own, after a GET of the page
  that hands out the form's idempotency key;
* a kiosk submit (`POST /k/<device_token>/responses/`, JSON) by a promoter and a detractor;
* the respondent page (`GET /s/<public_id>/`) as a signed-in member and as a visitor.

Each request runs inside `CaptureQueriesContext`, so everything it executes is counted,
including the work that runs after commit: with REDIS_URL unset Celery is eager, and the
sentiment task and the follow-up send run inside the request. SAVEPOINT, RELEASE SAVEPOINT
and ROLLBACK TO SAVEPOINT are counted apart, and so are BEGIN and COMMIT when they go
through a cursor (SQLite's backend, or explicit statements; Django's own transactions on
PostgreSQL go through the driver's connection and are not seen). The same requests are
first sent once uncounted (other members, other keys), so per-process caches are warm, as
they are in a server that has been up a while. Prints JSON: one entry per request with its
status, its checks, its counts and the first 80 characters of every statement.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.baseline.management.commands.bench_seed import (
    members_join,
    question_fields,
    sessions_mint,
)
from communities.models import User
from feedback.models import Case
from surveys.models import Channel, Response, Survey

HOST = "127.0.0.1"
TEXT_PROMOTER = "Great coffee and friendly staff, lovely place!"
TEXT_DETRACTOR = "The wait was terrible and the cup was cold."
KEY_INPUT = re.compile(r'name="idempotency_key" value="([^"]*)"')
SAVEPOINT_KINDS = {
    "savepoint": "SAVEPOINT ",
    "release": "RELEASE SAVEPOINT ",
    "rollback_to": "ROLLBACK TO SAVEPOINT ",
}


def statements_count(captured: list[dict[str, Any]]) -> dict[str, Any]:
    sqls = [q["sql"] for q in captured]
    heads = [sql.lstrip().upper() for sql in sqls]
    kinds = {
        kind: sum(head.startswith(prefix) for head in heads)
        for kind, prefix in SAVEPOINT_KINDS.items()
    }
    return {
        "queries": len(sqls),
        "savepoints": sum(kinds.values()),
        "savepoint_kinds": kinds,
        # Seen when they go through a cursor: SQLite's BEGIN IMMEDIATE and COMMIT, explicit
        # statements; not Django's own transactions on PostgreSQL (the driver's connection).
        "begin_commit": sum(
            head.startswith(("BEGIN", "COMMIT")) or head in ("ROLLBACK", "ROLLBACK;")
            for head in heads
        ),
        "statements": [" ".join(sql.split())[:80] for sql in sqls],
    }


class Command(BaseCommand):
    help = "Count the SQL queries of a survey submit, a kiosk submit and a respondent GET; JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--survey", required=True, help="public id, unanswered")
        parser.add_argument("--kiosk", required=True, help="a kiosk's device token")

    def handle(self, *args: Any, **options: Any) -> None:
        survey = Survey.objects.select_related("organisation", "community").get(
            public_id=options["survey"]
        )
        self.survey = survey
        self.fields = question_fields(survey)
        kiosk = Channel.objects.select_related("survey").get(device_token=options["kiosk"])
        self.kiosk_fields = question_fields(kiosk.survey)
        self.kiosk_path = f"/k/{options['kiosk']}/responses/"
        self.page = f"/s/{survey.public_id}/"
        self.sessions = iter(self.members_sign_in(4))
        self.entries: list[dict[str, Any]] = []
        # Uncounted: the same requests once, so imports, templates and caches are warm.
        self.run_all(counted=False)
        self.entries = []
        self.run_all(counted=True)
        self.stdout.write(json.dumps(self.entries))

    # -- who answers ------------------------------------------------------------------------

    def members_sign_in(self, count: int) -> list[tuple[User, str]]:
        """Fresh members of the survey's community, each with a signed-in session."""
        tag = secrets.token_hex(4)
        users = User.objects.bulk_create(
            User(
                email=f"bench-queries-{tag}-{i}@example.com",
                password=make_password(None),
                name=f"Q {i}",
            )
            for i in range(count)
        )
        members_join(org=self.survey.organisation, community=self.survey.community, users=users)
        return list(zip(users, sessions_mint(users=users), strict=True))

    def member_client(self) -> tuple[User, Client]:
        user, session_key = next(self.sessions)
        client = Client(HTTP_HOST=HOST)
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
        return user, client

    # -- the requests -----------------------------------------------------------------------

    def run_all(self, *, counted: bool) -> None:
        for detractor in (False, True):
            user, client = self.member_client()
            # The page hands out the form's key; the promoter's GET is the one counted.
            get_name = "" if detractor else "respondent GET member"
            key = self.respondent_get(get_name, client, counted=counted)
            name = f"survey submit {'detractor' if detractor else 'promoter'}"
            self.survey_submit(name, client, user, key, detractor=detractor, counted=counted)
        self.kiosk_submit("kiosk submit promoter", detractor=False, counted=counted)
        self.kiosk_submit("kiosk submit detractor", detractor=True, counted=counted)
        self.respondent_get("respondent GET visitor", Client(HTTP_HOST=HOST), counted=counted)

    def capture(self, name: str, counted: bool, send) -> tuple[Any, dict[str, Any]]:
        with CaptureQueriesContext(connection) as ctx:
            response = send()
        # Read now: the captured list is a view on the log the next request resets.
        entry = {"name": name, "status": response.status_code, "checks": []}
        entry.update(statements_count(list(ctx.captured_queries)))
        if counted and name:
            self.entries.append(entry)
        return response, entry

    @staticmethod
    def expect(entry: dict[str, Any], name: str, ok: bool, detail: str) -> None:
        entry["checks"].append({"check": name, "ok": bool(ok), "detail": detail})

    def respondent_get(self, name: str, client: Client, *, counted: bool) -> str:
        """GET the page; returns the idempotency key its form holds."""
        response, entry = self.capture(name, counted, lambda: client.get(self.page))
        text = response.content.decode("utf-8", "replace")
        member = "visitor" not in name
        match = KEY_INPUT.search(text)
        wanted = [f'name="{f["field"]}"' for f in self.fields.values()]
        wanted += ['name="csrfmiddlewaretoken"', 'name="idempotency_key"']
        missing = [w for w in wanted if w not in text]
        consent = 'name="consent_to_contact"' in text
        self.expect(
            entry,
            "200 with the form (every question, CSRF token, idempotency key)",
            response.status_code == 200 and not missing and match is not None,
            f"status={response.status_code} missing={missing}",
        )
        self.expect(
            entry,
            "signed in (consent box offered)" if member else "a visitor (no consent box)",
            consent == member,
            f"consent box {'shown' if consent else 'absent'}",
        )
        return match.group(1) if match else ""

    def answers(self, *, detractor: bool, kiosk: bool = False) -> dict[str, Any]:
        f = self.kiosk_fields if kiosk else self.fields
        return {
            f["nps"]["field"]: 3 if detractor else 9,
            f["single_choice"]["field"]: f["single_choice"]["choices"][0],
            f["multi_choice"]["field"]: f["multi_choice"]["choices"][:2],
            f["text"]["field"]: TEXT_DETRACTOR if detractor else TEXT_PROMOTER,
        }

    def survey_submit(
        self, name: str, client: Client, user: User, key: str, *, detractor: bool, counted: bool
    ) -> None:
        data = {**self.answers(detractor=detractor), "idempotency_key": key}
        if detractor:
            data["consent_to_contact"] = "on"
        response, entry = self.capture(name, counted, lambda: client.post(self.page, data))
        location = response.get("Location", "")
        self.expect(
            entry,
            "302 to the thank-you page",
            response.status_code == 302 and f"{self.page}thanks/" in location,
            f"status={response.status_code} location={location or '-'}",
        )
        stored = list(Response.objects.filter(survey=self.survey, member__user=user))
        cases = Case.objects.filter(response__in=stored).count()
        consent = bool(stored) and stored[0].consent_to_contact
        self.expect(
            entry,
            "one response of the member's"
            + (", with consent and a case" if detractor else ", no case"),
            len(stored) == 1 and consent == detractor and cases == int(detractor),
            f"responses={len(stored)} consent={consent} cases={cases}",
        )

    def kiosk_submit(self, name: str, *, detractor: bool, counted: bool) -> None:
        body = json.dumps(
            {
                "idempotency_key": secrets.token_hex(16),
                "language": "en",
                "answers": self.answers(detractor=detractor, kiosk=True),
            }
        )
        client = Client(HTTP_HOST=HOST)
        response, entry = self.capture(
            name,
            counted,
            lambda: client.post(self.kiosk_path, body, content_type="application/json"),
        )
        try:
            reply = json.loads(response.content)
        except ValueError:
            reply = {}
        stored = Response.objects.filter(pk=reply.get("id")).first()
        self.expect(
            entry,
            "201, an anonymous response with its store",
            response.status_code == 201
            and reply.get("created") is True
            and stored is not None
            and stored.member_id is None
            and stored.location_id is not None,
            f"status={response.status_code} reply={reply}",
        )
