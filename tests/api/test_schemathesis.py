"""The API against its own OpenAPI schema: schemathesis generates requests from the schema
the site serves and checks every answer, with 0 failures the bar.

A live server (pytest-django's) runs the site over the demo organisation and more
(tests/api/conftest.py); the `st` command runs in a subprocess against it, once per kind
of caller: an API key with every scope, a read-only key (every "*:read" scope), and a
signed-in analyst's session. Path ids, and ids in filters and bodies, come from
dictionaries of the organisation's real objects most of the time, so requests reach real
communities, members, surveys, rewards, cases and webhooks rather than only 404s; the rest
of the time they are whatever schemathesis makes up.

Checks: no 5xx; every status, content type, header and body the schema documents; a
request the schema refuses is refused (4xx), and one it allows is accepted. "Accepted"
counts 422 as well as 2xx, 404 and 409: 422 is this API's answer to a request of the right
shape that the organisation's data refuses (an attribute the community does not define,
a reward window that ends before it starts), which no static schema can describe.

Marked `fuzz`: CI runs it in the PostgreSQL leg (.ci/run); on the embedded SQLite a plain
`make test` skips it (minutes), unless FUZZ_EXAMPLES is set. FUZZ_EXAMPLES sets the random
cases per operation (default 15), FUZZ_PATHS a regular expression of the paths to try,
FUZZ_SEED the random seed (a fixed default, so CI's run is reproducible).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings as project_settings
from django.db import connection
from django.test import Client

from communities.models import User
from communities.models.organisations import API_SCOPES
from communities.services import api_token_create

if TYPE_CHECKING:
    from tests.api.conftest import FuzzWorld

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in project_settings.DATABASES["default"]["ENGINE"]
        and "FUZZ_EXAMPLES" not in os.environ,
        reason="the API fuzz runs on PostgreSQL (CI's second leg), or with FUZZ_EXAMPLES set",
    ),
]

ST = Path(sys.executable).with_name("st")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)
# Schema-valid requests may be answered these without counting as refused: schemathesis's
# own list plus 422 (see the module's docstring).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
# FUZZ_PATHS=rewards: only the operations whose path matches (a regular expression).
PATHS = os.environ.get("FUZZ_PATHS", "")

# Which dictionaries of ids a route's path parameters draw from, by the collection each
# follows; the first pattern a path matches decides (questions are edited in a draft).
PATH_IDS = {
    r"/questions/\{qid\}/choices/\{cid\}/": {
        "id": "draft_surveys",
        "qid": "questions",
        "cid": "choices",
    },
    r"/questions/\{qid\}/": {"id": "draft_surveys", "qid": "questions"},
    r"/surveys/\{id\}/questions/": {"id": "draft_surveys"},
    r"/communities/\{id\}/": {"id": "communities"},
    r"/members/\{id\}/": {"id": "members"},
    r"/segments/\{id\}/": {"id": "segments"},
    r"/surveys/\{id\}/": {"id": "surveys"},
    r"/responses/\{id\}/": {"id": "responses"},
    r"/events/\{id\}/": {"id": "events"},
    r"/rewards/\{id\}/": {"id": "rewards"},
    r"/redemptions/\{id\}/": {"id": "redemptions"},
    r"/cases/\{id\}/": {"id": "cases"},
    r"/webhooks/endpoints/\{id\}/": {"id": "webhook_endpoints"},
    r"/webhooks/deliveries/\{id\}/": {"id": "webhook_deliveries"},
}
# Ids in filters and bodies, by the parameter's name, wherever it appears.
NAMED_IDS = {
    "community": "communities",
    "member": "members",
    "segment": "segments",
    "survey": "surveys",
    "reward": "rewards",
    "location": "locations",
    "assignee": "staff",
}
# How often a drawn id is a real one (else schemathesis's own: mostly a 404 or 422).
REAL_ID = 0.85


def _toml(value) -> str:
    """A TOML value: JSON's spelling of strings, numbers and arrays is TOML's too."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def schemathesis_config(
    *, world: FuzzWorld, base_url: str, headers: dict[str, str], examples: int
) -> str:
    """schemathesis.toml for one run: where, as whom, how much, and the ids to use."""

    def binding(dictionary: str) -> dict:
        return {"dictionary": dictionary, "probability": REAL_ID}

    parameters = {"path.org": world.organisation.slug}
    for name, dictionary in NAMED_IDS.items():
        parameters[f"query.{name}"] = binding(dictionary)
        parameters[f"body.{name}"] = binding(dictionary)
    # The case list's assignee filter is text: a user id, "me" or "none".
    dictionaries = {
        **world.ids,
        "assignee_filters": [str(pk) for pk in world.ids["staff"]] + ["me", "none"],
    }
    parameters["query.assignee"] = binding("assignee_filters")
    lines = [
        f"base-url = {_toml(base_url)}",
        f"headers = {_toml(headers)}",
        # PostgreSQL takes two callers at once; the in-memory SQLite of the embedded leg
        # is one connection the live server's threads share.
        f"workers = {2 if connection.vendor == 'postgresql' else 1}",
        "request-timeout = 30",
        "continue-on-failure = true",
        "[generation]",
        f"max-examples = {examples}",
        # A credential is set above; made-up ones would only meet the unknown-key limit.
        "with-security-parameters = false",
        "database = 'none'",
        # Stateful runs follow the schema's links, and it declares none.
        "[phases.stateful]",
        "enabled = false",
        # Methods a path does not have are DRF's 405 on every path alike, and repeated query
        # parameters its QueryDict's last-one-wins: a time budget better spent on the rest.
        "[phases.coverage]",
        "unexpected-methods = []",
        "generate-duplicate-query-parameters = false",
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {_toml(ACCEPTED)}",
        "[parameters]",
        *(f"{_toml(key)} = {_toml(value)}" for key, value in parameters.items()),
    ]
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml(values)}"]
    for regex, names in PATH_IDS.items():
        bindings = {f"path.{name}": binding(dictionary) for name, dictionary in names.items()}
        lines += [
            "[[operations]]",
            f"include-path-regex = {_toml(regex)}",
            f"parameters = {_toml(bindings)}",
        ]
    return "\n".join(lines) + "\n"


def schemathesis_run(*, world: FuzzWorld, live_server, caller: Caller, work: Path) -> dict:
    """Run `st` against the live server; its JSON report, and its console output."""
    config = work / "schemathesis.toml"
    config.write_text(
        schemathesis_config(
            world=world,
            base_url=live_server.url,
            headers=caller.headers(world),
            examples=caller.examples,
        )
    )
    report = work / "report.json"
    finished = subprocess.run(
        [
            str(ST),
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/api/schema/",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            caller.phases,
            *(["--include-method-regex", caller.methods] if caller.methods else []),
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--no-color",
            # One seed, so CI draws the same cases every run and a failure replays exactly;
            # FUZZ_SEED draws another set (run a few before changing the API's inputs).
            "--seed",
            os.environ.get("FUZZ_SEED", "20261206"),
            *(["--include-path-regex", PATHS] if PATHS else []),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        # Its cache and example database stay out of the checkout.
        cwd=work,
    )
    summary = json.loads(report.read_text()) if report.exists() else {}
    summary["console"] = finished.stdout + finished.stderr
    # Kept with the test's temporary files (pytest keeps the last runs'): the whole story.
    (work / "console.txt").write_text(summary["console"])
    summary["returncode"] = finished.returncode
    return summary


@pytest.fixture
def fuzz_server(live_server, settings, monkeypatch):
    """The live server, with budgets no honest client meets: the fuzzer sends thousands of
    requests a minute from one key."""
    settings.API_RATE_READS_PER_MINUTE = 1_000_000
    settings.API_RATE_WRITES_PER_MINUTE = 1_000_000
    monkeypatch.setattr("communities.api.views.INVITES_PER_HOUR", 1_000_000)
    return live_server


def key_headers(world: FuzzWorld, scopes) -> dict[str, str]:
    key = api_token_create(organisation=world.organisation, name="fuzzer", scopes=scopes)[1]
    return {"Authorization": f"Bearer {key}"}


def session_headers(world: FuzzWorld) -> dict[str, str]:
    client = Client()
    client.force_login(User.objects.get(email=world.analyst_email))
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


@dataclass(frozen=True)
class Caller:
    """Who calls, and how hard: the key with every scope gets the whole treatment (the
    coverage phase's boundary cases for every parameter and field, then random ones); the
    others, random cases only, to prove each operation answers them as the schema says."""

    headers: Callable[[FuzzWorld], dict[str, str]]
    phases: str
    examples: int
    methods: str = ""  # a regular expression of the methods tried; "" for all


CALLERS = {
    "a key with every scope": Caller(
        headers=lambda world: key_headers(world, API_SCOPES),
        phases="examples,coverage,fuzzing",
        examples=EXAMPLES,
    ),
    "a read-only key": Caller(
        headers=lambda world: key_headers(
            world, [scope for scope in API_SCOPES if scope.endswith(":read")]
        ),
        phases="examples,fuzzing",
        examples=max(EXAMPLES // 3, 1),
    ),
    # Analysts read; their writes are refused by role before anything else is looked at.
    "an analyst's session": Caller(
        headers=session_headers, phases="fuzzing", examples=max(EXAMPLES // 3, 1), methods="GET"
    ),
}


@pytest.mark.parametrize("caller", list(CALLERS))
def test_the_api_keeps_to_its_schema_for(caller, fuzz_world, fuzz_server, tmp_path, capsys):
    # given the organisation and a caller of this kind
    plan = CALLERS[caller]
    # when schemathesis calls every operation of the schema the site serves
    run = schemathesis_run(world=fuzz_world, live_server=fuzz_server, caller=plan, work=tmp_path)
    # then no check fails; the closing note quotes how much was run
    operations = run.get("operations", {})
    cases = run.get("test_cases", {})
    with capsys.disabled():
        print(
            f"\nschemathesis as {caller}: {operations.get('tested', 0)} operations, "
            f"{cases.get('generated', 0)} test cases, "
            f"{cases.get('unique_failures', '?')} failures, {run.get('running_time', 0):.0f} s"
        )
    assert run["returncode"] == 0 and not run.get("failures"), (
        f"{run['console'][-20000:]}\n(all of it: {tmp_path / 'console.txt'})"
    )
    assert operations.get("tested", 0) >= 20 or PATHS, run["console"][-5000:]
