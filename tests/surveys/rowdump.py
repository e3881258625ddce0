"""The machinery of tests/surveys/test_submit_rows.py: dump every row a request writes,
normalised so it is independent of the database and the run, and compare it with a golden
file (see that module's docstring for the rules)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock
from uuid import UUID

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.base import BaseStorage
from django.contrib.messages.storage.cookie import CookieStorage
from django.core import mail
from django.db import models
from django.test import Client
from django.utils import timezone

from surveys.services.responses import answer_key_stored

GOLDENS = Path(__file__).resolve().parents[1] / "data" / "submit_rows"
WRITE_GOLDENS = os.environ.get("CHORUS_WRITE_GOLDENS") == "1"

# The session row is the request's, not the submit's (and its key is random): what a
# submit leaves in the session is compared as the session's keys, under "http".
# A case's timeline (issue 17) came after the goldens; its own test checks it
# (tests/feedback/test_case_timeline.py).
NOT_SUBMIT_ROWS = {"sessions.session", "feedback.caseevent"}
# A response's `cells` (issue 16) is its answers again, as one value PostgreSQL keeps
# (SQLite leaves it empty); tests/surveys/test_response_cells.py checks that the submit path
# writes it equal to the answers, and the goldens compare the answers themselves.
NOT_COMPARED_FIELDS = {("surveys.response", "cells")}

FORM_KEY_INPUT = re.compile(r'<input[^>]*name="idempotency_key"[^>]*value="([^"]*)"')
UNSUBSCRIBE_LINK = re.compile(r"/u/([A-Za-z0-9_-]{16,})/")
# The signed reply page of a case (issue 15): its token carries a timestamp.
REPLY_LINK = re.compile(r"/reply/([A-Za-z0-9._:-]{8,})/")
# The Message-ID the outbox stores on its row (issue 15, for bounces): random.
OUTBOX_MESSAGE_ID = re.compile(r"<outbox\.[0-9a-f]{32}@[^>]+>")
# A value of this shape that the test cannot name is a random token (a key a pool release
# makes, the hash of a link token).
RANDOM_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,}")
# Joins the places a time may be (see Window.places).
EITHER = " | "
# "<what>:<id>" inside keys and sources: the ledger's "survey:3:member:7", the outbox's
# "followup:response:12", a ledger source "surveys.survey:3".
ID_IN_TEXT = re.compile(r"(?<![\w.])(surveys\.survey|survey|member|response|case|user):(\d+)")
# Ids in an email's context (communities.outbox): its case and survey.
CONTEXT_IDS = (("case_id", "feedback.case"), ("survey_id", "surveys.survey"))
# A staff page's address in an alert email.
CASE_URL = re.compile(r"/cases/(\d+)/")
ID_IN_TEXT_MODELS = {
    "surveys.survey": "surveys.survey",
    "survey": "surveys.survey",
    "member": "communities.member",
    "response": "surveys.response",
    "case": "feedback.case",
    "user": "communities.user",
}


# --- reading the whole database -----------------------------------------------------------


def _tables() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.label_lower not in NOT_SUBMIT_ROWS
    ]


def database_rows() -> dict[str, dict[Any, dict[str, Any]]]:
    """Every row of every table: {table label: {pk: {attname: value}}}."""
    rows = {}
    for model in _tables():
        names = [f.attname for f in model._meta.concrete_fields]
        pk = model._meta.pk.attname
        rows[model._meta.label_lower] = {
            row[pk]: row for row in model._base_manager.order_by().values(*names)
        }
    return rows


def _fields(label: str) -> list[models.Field]:
    model = apps.get_model(label)
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and (label, f.name) not in NOT_COMPARED_FIELDS
    ]


# --- naming what a step wrote ---------------------------------------------------------------


class Window:
    def __init__(self, name: str, start: dt.datetime, end: dt.datetime):
        self.name, self.start, self.end = name, start, end

    def places(self, value: dt.datetime) -> list[str]:
        """Where `value` falls in this window. Near midnight one value can be two things
        (the hour and the day both start then): all of them, so either golden matches."""
        found = []
        if self.start <= value <= self.end:
            found.append("")
        if (value.minute, value.second, value.microsecond) == (0, 0, 0):
            hour = {"minute": 0, "second": 0, "microsecond": 0}
            if self.start.replace(**hour) <= value <= self.end.replace(**hour):
                found.append(", to the hour")
        local = timezone.localtime(value)
        if local.time() == dt.time(0) and (
            timezone.localdate(self.start) <= local.date() <= timezone.localdate(self.end)
        ):
            found.append(" (today, midnight)")
        return found


class Normaliser:
    """Turns rows into data that is the same on every database and in every run."""

    def __init__(self):
        self.refs: dict[tuple[str, Any], str] = {}
        self.counts: dict[str, int] = {}
        self.substitutions: dict[str, str] = {}
        self.windows: list[Window] = []
        self.setup_ends: dt.datetime | None = None

    # names

    def name(self, obj: models.Model, ref: str) -> None:
        self.refs[(obj._meta.label_lower, obj.pk)] = ref

    def secret(self, value: str, marker: str) -> None:
        self.substitutions[value] = marker

    def name_existing(self, rows: dict[str, dict[Any, dict]]) -> None:
        """Rows there before the first step: named by the test, else by their rank, in
        id order (the order the test made them in) or, for random ids, content order."""
        for label, table in rows.items():
            unnamed = {pk: row for pk, row in table.items() if (label, pk) not in self.refs}
            for rank, pk in enumerate(self._ordered(label, unnamed, rows), start=1):
                self.refs[(label, pk)] = f"{label}@{rank}"

    def ref(self, label: str, pk: Any) -> str:
        if pk is None:
            return None
        return self.refs.get((label, pk), f"{label}:unknown")

    def name_new(self, created: dict[str, dict[Any, dict]]) -> None:
        """Number the rows a step created, parents first, each table in content order."""
        waiting = {label: rows for label, rows in created.items() if rows}
        while waiting:
            ready = sorted(
                label
                for label in waiting
                if not any(
                    f.related_model._meta.label_lower in waiting
                    and f.related_model._meta.label_lower != label
                    for f in _fields(label)
                    if f.is_relation
                )
            )
            assert ready, f"foreign keys in a cycle: {sorted(waiting)}"
            for label in ready:
                rows = waiting.pop(label)
                model_name = label.split(".")[1]
                for pk in self._ordered(label, rows, created, by_content=True):
                    self.counts[model_name] = self.counts.get(model_name, 0) + 1
                    self.refs[(label, pk)] = f"{model_name}#{self.counts[model_name]}"

    def _ordered(self, label, rows, tables, *, by_content=False) -> list[Any]:
        """Ids in a stable order: their own, when they are numbers the test's order gave;
        else by content, then by the content of the rows that point at them (responses
        alike but for their answers)."""
        if not by_content and all(isinstance(pk, int) for pk in rows):
            return sorted(rows)
        children: dict[Any, list[str]] = {pk: [] for pk in rows}
        for other, other_rows in tables.items():
            for f in _fields(other):
                if f.is_relation and f.related_model._meta.label_lower == label:
                    for row in other_rows.values():
                        if row[f.attname] in children:
                            content = self.row(other, {**row, f.attname: None})
                            children[row[f.attname]].append(
                                f"{other}.{f.name}" + _sort_key(content)
                            )
        return sorted(
            rows, key=lambda pk: (_sort_key(self.row(label, rows[pk])), sorted(children[pk]))
        )

    # values

    def row(self, label: str, row: dict[str, Any]) -> dict[str, Any]:
        targets = self.case_targets(row) if label == "feedback.case" else {}
        return {
            f.name: targets[f.name] if f.name in targets else self.field(label, f, row[f.attname])
            for f in _fields(label)
        }

    def case_targets(self, row: dict[str, Any]) -> dict[str, str]:
        """A case's due times as what they are: its organisation's service-level targets
        for its priority, counted in business hours from when it opened (issue 15), named
        only when they are exactly that."""
        from communities.models import Organisation
        from feedback.services.sla import case_sla_times

        organisation = Organisation.objects.get(pk=row["organisation_id"])
        first, resolution = case_sla_times(
            organisation=organisation, priority=row["priority"], start=row["created_at"]
        )
        named = {}
        if row["first_response_due_at"] is not None and row["first_response_due_at"] == first:
            named["first_response_due_at"] = "first-response target from created_at"
        if row["due_at"] is not None and row["due_at"] == resolution:
            named["due_at"] = "resolution target from created_at"
        return named

    def field(self, label: str, field: models.Field, value: Any) -> Any:
        if field.is_relation:
            return self.ref(field.related_model._meta.label_lower, value)
        if isinstance(field, models.JSONField):
            return self.json(label, field.name, value)
        return self.value(value)

    def value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return self.time(value)
        if isinstance(value, dt.date):
            return self.day(value)
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, UUID):
            return "<uuid>"
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {str(k): self.value(v) for k, v in value.items()}
        return value

    def text(self, value: str) -> str:
        if value in self.substitutions:
            return self.substitutions[value]
        for secret, marker in self.substitutions.items():
            if len(secret) >= 16:
                value = value.replace(secret, marker)

        def named(match: re.Match) -> str:
            label = ID_IN_TEXT_MODELS[match[1]]
            return f"{match[1]}:{{{self.ref(label, int(match[2]))}}}"

        value = ID_IN_TEXT.sub(named, value)
        value = CASE_URL.sub(lambda m: f"/cases/{{{self.ref('feedback.case', int(m[1]))}}}/", value)
        if RANDOM_TOKEN.fullmatch(value):
            return f"<random, {len(value)} url-safe characters>"
        if OUTBOX_MESSAGE_ID.fullmatch(value):
            return "<outbox message id>"
        return value

    def json(self, label: str, field: str, value: Any) -> Any:
        """JSON compared as data, with the ids it holds named."""
        if label == "feedback.case" and field == "reasons":
            value = self.reasons(value)
        elif label == "surveys.pooledanswer" and field == "answers":
            value = {
                self.ref("surveys.question", int(qid)): self.answer(answer)
                for qid, answer in value.items()
            }
        elif field == "context" and isinstance(value, dict):
            # An email's context (communities.outbox): its case, survey and reasons.
            value = {
                **value,
                **{
                    key: self.ref(target, value[key]) for key, target in CONTEXT_IDS if key in value
                },
                **({"reasons": self.reasons(value["reasons"])} if "reasons" in value else {}),
            }
        return self.value(value)

    def reasons(self, reasons: list[dict]) -> list[dict]:
        """A case's reasons (feedback.reasons): the question, and the choice a rule named."""
        return [
            {
                **reason,
                "question": self.ref("surveys.question", reason.get("question")),
                "value": self.ref("surveys.choice", reason["value"])
                if reason.get("code") == "choice"
                else reason.get("value"),
            }
            for reason in reasons
        ]

    def answer(self, answer: dict) -> dict:
        """A pooled answer as answers_validate made it: its choices named."""
        if "choice_ids" not in answer:
            return answer
        return {
            **answer,
            "choice_ids": [self.ref("surveys.choice", c) for c in answer["choice_ids"]],
        }

    def time(self, value: dt.datetime) -> str:
        if not self.windows:
            assert value <= self.setup_ends, value
            return "before"
        current, *earlier = reversed(self.windows)
        for days in sorted(range(-400, 401), key=abs):
            moved = value - dt.timedelta(days=days)
            shift = f" {days:+d} days" if days else ""
            found = [
                f"{where}{place}{shift}"
                for window, where in [(current, "now")] + [(w, f"at '{w.name}'") for w in earlier]
                for place in window.places(moved)
            ]
            if found:
                return EITHER.join(found)
        if value <= self.setup_ends:
            return "before"
        raise AssertionError(f"{value} is neither before the submit nor in its window")

    def day(self, value: dt.date) -> str:
        for window in reversed(self.windows):
            if timezone.localdate(window.start) <= value <= timezone.localdate(window.end):
                return "today"
        if value <= timezone.localdate(self.setup_ends):
            return "before"
        raise AssertionError(f"{value} is neither before the submit nor the day of it")


def _sort_key(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, default=str)


# --- one scenario, step by step ---------------------------------------------------------------


class Recorder:
    """Runs a scenario's requests and dumps what each one wrote."""

    def __init__(self, capture_on_commit):
        self.capture = capture_on_commit
        self.names = Normaliser()
        self.steps: list[dict[str, Any]] = []
        self.keys = 0

    def form_key(self, page) -> str:
        """The answer key in a respondent page, read from its HTML as a browser sends it
        back (a page a process kept is served without rendering a template)."""
        found = FORM_KEY_INPUT.search(page.content.decode())
        assert found, "the page has no answer key"
        return self.new_key(html.unescape(found.group(1)))

    def new_key(self, key: str) -> str:
        self.keys += 1
        self.names.secret(answer_key_stored(key), f"answer_key_stored(form key {self.keys})")
        return key

    def step(self, name: str, send: Callable[[], Any], client: Client | None = None) -> Any:
        before = database_rows()
        if not self.steps:
            self.names.setup_ends = timezone.now()
            self.names.name_existing(before)
        mails = len(mail.outbox)
        start = timezone.now()
        said: list[list[str]] = []
        add = BaseStorage.add

        def add_and_note(storage, level, message, extra_tags=""):
            said.append([constants.DEFAULT_TAGS.get(level, str(level)), str(message)])
            return add(storage, level, message, extra_tags)

        with self.capture(execute=True), mock.patch.object(BaseStorage, "add", add_and_note):
            page = send()
        self.names.windows.append(Window(name, start, timezone.now()))
        after = database_rows()
        created = {t: {pk: r for pk, r in after[t].items() if pk not in before[t]} for t in after}
        self._secrets_in(created)
        self.names.name_new(created)
        self.steps.append(
            {
                "step": name,
                "http": self._http(page, client, said),
                "emails": [self._email(m) for m in mail.outbox[mails:]],
                "created": self._created(created),
                "changed": self._changed(before, after),
                "deleted": {
                    t: sorted(self.names.ref(t, pk) for pk in before[t] if pk not in after[t])
                    for t in before
                    if set(before[t]) - set(after[t])
                },
            }
        )
        return page

    def _secrets_in(self, created: dict[str, dict[Any, dict]]) -> None:
        for rows in created.values():
            for row in rows.values():
                for value in row.values():
                    for token in UNSUBSCRIBE_LINK.findall(json.dumps(value, default=str)):
                        shape = f"<unsubscribe token, {len(token)} url-safe characters>"
                        self.names.secret(token, shape)
                        self.names.secret(
                            hashlib.sha256(token.encode()).hexdigest(), f"sha256({shape})"
                        )
                    for token in REPLY_LINK.findall(json.dumps(value, default=str)):
                        self.names.secret(token, "<signed reply token>")

    def _created(self, created: dict[str, dict[Any, dict]]) -> dict[str, Any]:
        return {
            label: {
                self.names.ref(label, pk): self.names.row(label, row) for pk, row in rows.items()
            }
            for label, rows in sorted(created.items())
            if rows
        }

    def _changed(self, before, after) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        for label in sorted(before):
            for pk, old in before[label].items():
                new = after[label].get(pk)
                if new is None or new == old:
                    continue
                changed.setdefault(label, {})[self.names.ref(label, pk)] = {
                    f.name: [
                        self.names.field(label, f, old[f.attname]),
                        self.names.field(label, f, new[f.attname]),
                    ]
                    for f in _fields(label)
                    if old[f.attname] != new[f.attname]
                }
        return changed

    def _http(self, page, client: Client | None, said_to_user: list) -> dict[str, Any]:
        said: dict[str, Any] = {"status": page.status_code}
        if page.get("Location"):
            said["location"] = self.names.text(page["Location"])
        if page.get("Content-Type", "").startswith("application/json"):
            body = page.json()
            if "id" in body:
                body["id"] = self.names.ref("surveys.response", body["id"])
            said["json"] = body
        else:
            # What the request told the respondent (messages it added, not earlier ones).
            said["messages"] = said_to_user
        said["cookies"] = {
            name: self._cookie(name, cookie.value) for name, cookie in sorted(page.cookies.items())
        }
        if client is not None:
            said["session_keys"] = sorted(map(self.names.text, client.session.keys()))
        return said

    def _cookie(self, name: str, value: str) -> str:
        if name in (settings.SESSION_COOKIE_NAME, CookieStorage.cookie_name):
            # A random session key, and messages signed with the time: set or cleared.
            return "<set>" if value else "<cleared>"
        return self.names.text(value)

    def _email(self, message) -> dict[str, Any]:
        return {
            "to": message.to,
            "from": message.from_email,
            "reply_to": message.reply_to,
            "subject": message.subject,
            "headers": {
                k: (
                    self.names.ref("communities.outboundemail", int(v))
                    if k == "X-Chorus-Outbox"
                    else self.names.text(v)
                )
                for k, v in sorted(message.extra_headers.items())
                if k != "Message-ID"
            },
        }

    def check(self, scenario: str) -> None:
        dump = json.loads(json.dumps({"scenario": scenario, "steps": self.steps}, sort_keys=True))
        path = GOLDENS / f"{scenario}.json"
        if WRITE_GOLDENS:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(dump, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
            return
        differences = list(_differences(json.loads(path.read_text()), dump))
        if differences:
            pytest.fail(f"{scenario} wrote other rows than before:\n" + "\n".join(differences))


def _differences(expected: Any, actual: Any, path: str = "") -> Any:
    """Each place two dumps differ, as "path: expected -> actual"."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                yield f"{path}/{key}: missing (was {json.dumps(expected[key], ensure_ascii=False)})"
            elif key not in expected:
                yield f"{path}/{key}: new ({json.dumps(actual[key], ensure_ascii=False)})"
            else:
                yield from _differences(expected[key], actual[key], f"{path}/{key}")
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            yield from _differences(e, a, f"{path}[{i}]")
    elif expected != actual and not _either_matches(expected, actual):
        yield (
            f"{path}: {json.dumps(expected, ensure_ascii=False)} -> "
            f"{json.dumps(actual, ensure_ascii=False)}"
        )


def _either_matches(expected: Any, actual: Any) -> bool:
    """Whether two times that may each be one of several places share one."""
    if not (isinstance(expected, str) and isinstance(actual, str)):
        return False
    return bool(set(expected.split(EITHER)) & set(actual.split(EITHER)))
