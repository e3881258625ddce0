"""The README's "first API call in five minutes" works as written (issue 17).

Its shell blocks run in order, in one bash session as a reader pasting them would (so a
variable one block sets serves the next), with the real `manage.py api_key_create` and the
real `curl`, against a live server holding the demo's data; only the demo's address is
replaced by the live server's. Each block must exit 0, and the answer it prints must have
the status, the headers and the content type of the ```http block the README shows under it.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.e2e.server import current_database_url

pytestmark = pytest.mark.django_db(transaction=True)

README = Path(settings.BASE_DIR) / "README.md"
SECTION = "## Your first API call in five minutes"
DEMO_URL = "http://127.0.0.1:8000"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
STATUS_LINE = re.compile(r"^HTTP/[\d.]+ (\d{3})", re.M)
MARKER = "@@readme-step-{}@@"


@dataclass
class Step:
    script: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


def readme_steps() -> list[Step]:
    """The section's ```sh blocks, each with the answer its ```http block claims."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    steps: list[Step] = []
    for language, body in FENCE.findall(text[start : end if end != -1 else None]):
        if language == "sh":
            steps.append(Step(script=body))
        elif language == "http":
            status, headers = answer_head(body)
            steps[-1].status, steps[-1].headers = status, headers
    return steps


def answer_head(text: str) -> tuple[int, dict[str, str]]:
    """The status and headers (names lower-cased) of the first answer printed in `text`."""
    found = STATUS_LINE.search(text)
    assert found, f"no HTTP status line in:\n{text}"
    headers = {}
    for line in text[found.end() :].replace("\r\n", "\n").split("\n")[1:]:
        if not line.strip():
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(found.group(1)), headers


def media_type(value: str) -> str:
    return value.split(";")[0].strip().lower()


def test_readme_section_is_where_a_reader_finds_it() -> None:
    # given the README
    text = README.read_text(encoding="utf-8")

    # then the two first commands still come first, and the API section right after them
    assert text.index("## Two commands") < text.index(SECTION) < text.index("## Configuration")
    steps = readme_steps()
    assert len([s for s in steps if s.status is not None]) >= 5
    every = "\n".join(s.script for s in steps)
    for needed in ("api_key_create", "Idempotency-Key", "min_score", "$NEXT", "-X POST"):
        assert needed in every


def test_readme_curl_examples_answer_what_the_readme_shows(live_server) -> None:
    # given the demo's data, served by a live server
    call_command("seed_demo", "--responses", "30", stdout=StringIO())
    steps = readme_steps()
    script = ["set -euo pipefail"]
    for number, step in enumerate(steps):
        script += [f"printf '\\n{MARKER.format(number)}\\n'", step.script]
    environment = {**os.environ, "DATABASE_URL": current_database_url()}

    # when the section's blocks run in order in one shell, pointed at the live server
    run = subprocess.run(
        ["bash", "-c", "\n".join(script).replace(DEMO_URL, live_server.url)],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )

    # then every block ran, and each answer is the one the README shows
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    outputs = re.split(r"\n@@readme-step-\d+@@\n", "\n" + run.stdout)[1:]
    assert len(outputs) == len(steps)
    for step, output in zip(steps, outputs, strict=True):
        if step.status is None:
            continue
        status, headers = answer_head(output)
        shown = f"{step.script}\nanswered:\n{output[:3000]}"
        assert status == step.status, shown
        missing = sorted(set(step.headers) - set(headers))
        assert not missing, f"headers {missing} missing: {shown}"
        if "content-type" in step.headers:
            assert media_type(headers["content-type"]) == media_type(
                step.headers["content-type"]
            ), shown
