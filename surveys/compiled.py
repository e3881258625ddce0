"""A survey's questions and choices, compiled once per version and kept by each process.

Every respondent page, kiosk and submit needs the survey's questions with their choices:
two queries and most of a millisecond of ORM work for rows that change only when staff
edit the survey. Each web process keeps them under the survey's identity and version —
(id, updated_at, revision) from the survey row that every request reads anyway — so a
process never serves an old version and no process has to tell another: an edit to the
survey moves updated_at, an edit to a question or a choice bumps revision
(surveys.signals), and the next request asks for a key no process has seen. updated_at
also tells apart a survey that reused the id of one deleted before it.

The same store keeps the respondent form's markup per version, language and variant
(surveys.views.respond). What is kept is read-only: callers never change it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from surveys.models import Question, Survey

# Surveys a process keeps at once (the least recently used goes first).
COMPILED_KEPT = 1024

_lock = threading.Lock()
_kept: OrderedDict[Hashable, Any] = OrderedDict()


def survey_version(survey: Survey) -> tuple[int, str, int]:
    """What names one version of a survey's content."""
    return (survey.pk, survey.updated_at.isoformat(), survey.revision)


def compiled_questions(*, survey: Survey) -> tuple[Question, ...]:
    """The survey's shown questions in order, their choices prefetched; from the process's
    copy of this version when it has one."""
    return compiled(
        ("questions", survey_version(survey)),
        lambda: tuple(survey.questions.filter(hidden=False).prefetch_related("choices")),
    )


def compiled(key: Hashable, build: Callable[[], Any]) -> Any:
    """What `build` makes, kept by this process under `key` (a key that names a survey
    version, as survey_version does, so it never needs invalidating)."""
    with _lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
            return kept
    made = build()
    with _lock:
        _kept[key] = made
        while len(_kept) > COMPILED_KEPT:
            _kept.popitem(last=False)
    return made


def compiled_forget() -> None:
    """Drop every kept survey (tests that count queries start from a cold process)."""
    with _lock:
        _kept.clear()
