"""Writing one response and its answers: shared by the submit path and the pool release."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache, lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model
from django.db.models.base import ModelState
from django.utils import timezone

from communities.models import Location, Member, Organisation
from surveys.choices import QuestionType
from surveys.lookups import KioskCurrent
from surveys.models import Answer, Channel, Response, Survey, SurveyInvitation
from surveys.reactions import Rider, StoredResponse
from surveys.sentiment import sentiment_score
from surveys.services.statements import (
    MemberAnswering,
    response_with_answers_insert,
)


def _loaded(instance):
    """A model instance built from values just written, as if read back from the database."""
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return instance


@cache
def _attnames(model: type[Model]) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields)


def _unsaved(model: type[Model], values: dict[str, Any], related: dict[str, Any]) -> Model:
    """An unsaved instance holding exactly `values` (every concrete field's), with its
    related instances cached: what Model(**values) builds, without its per-field
    descriptors and init signals, which cost a kiosk answer more than its own rows'
    Python (nothing in Chorus listens to pre_init or post_init)."""
    assert values.keys() == _attnames(model), values.keys() ^ _attnames(model)
    instance = model.__new__(model)
    instance._state = ModelState()
    instance.__dict__.update(values)
    instance._state.fields_cache.update(related)
    return instance


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    """The zone of a name (UTC for an unknown one), built once per process."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def organisation_day(*, organisation: Organisation, at: datetime) -> date:
    """The day `at` falls on in the organisation's time zone: a response's `submitted_on`,
    the day every filter by date (dashboard, results, exports) counts it on."""
    return timezone.localdate(at, timezone=_zone(organisation.time_zone))


def answers_score(*, clean: dict[int, dict[str, Any]], question_types: dict[int, str]) -> None:
    """Score each long text answer's sentiment into its clean value ("sentiment"), so the
    caller can do it before its transaction: on SQLite everything inside one holds the
    database's single write lock, which every other answer waits on."""
    for qid, value in clean.items():
        if question_types.get(qid) == QuestionType.TEXT and "sentiment" not in value:
            value["sentiment"] = sentiment_score(value.get("text", ""))


@dataclass
class ResponseDraft:
    """A response and its answers ready to write: the statement's rows, and the instances
    the reactions read (not yet saved: no ids until draft_write)."""

    row: dict[str, Any]
    answers: list[dict[str, Any]]
    pairs: list[tuple[int, int]]
    stored: StoredResponse


def response_draft(
    *,
    survey: Survey,
    clean: dict[int, dict[str, Any]],
    question_types: dict[int, str],
    idempotency_key: str,
    language: str,
    member: Member | None,
    invitation: SurveyInvitation | None,
    channel: Channel | None,
    location: Location | None,
    anonymous: bool,
    consent_to_contact: bool,
    submitted_at: datetime,
    stored_at: datetime,
    pooled: bool = False,
) -> ResponseDraft:
    """The response, its answers and chosen choices as draft_write writes them.

    Long text answers are scored for sentiment here when the caller has not already
    (answers_score), before they are stored (TextBlob's lexicon takes well under a
    millisecond), so the response is analysed as it is written: the follow-up rules run
    once, in the transaction that writes it, and no task has to read it back. An anonymous
    response records its own coarse time as the moment of analysis, never a finer one.
    """
    analysed_at = submitted_at if anonymous else stored_at
    # Every submit path loads the survey with its organisation: this reads no row.
    submitted_on = organisation_day(organisation=survey.organisation, at=submitted_at)
    rows = []
    for qid, value in clean.items():
        kind = question_types[qid]
        text = value.get("text", "")
        rows.append(
            {
                "question": qid,
                "question_type": kind,
                "number": value.get("number"),
                "text": text,
                "sentiment": (
                    value["sentiment"]
                    if "sentiment" in value
                    else sentiment_score(text)
                    if kind == QuestionType.TEXT
                    else None
                ),
            }
        )
    pairs = [(qid, cid) for qid, value in clean.items() for cid in value.get("choice_ids", ())]
    row = {
        "organisation_id": survey.organisation_id,
        "survey_id": survey.pk,
        "channel_id": channel.pk if channel else None,
        "member_id": member.pk if member else None,
        "invitation_id": invitation.pk if invitation else None,
        "location_id": location.pk if location else None,
        "language": language,
        "submitted_at": submitted_at,
        "submitted_on": submitted_on,
        "is_anonymous": anonymous,
        "consent_to_contact": consent_to_contact,
        "idempotency_key": idempotency_key,
        "analysed_at": analysed_at,
        # PostgreSQL's triggers keep it from the answers (surveys 0010); SQLite leaves it.
        **(
            {"cells": response_cells(rows, pairs)}
            if rows and connection.vendor == "postgresql"
            else {}
        ),
    }
    # What the reactions read from the response, without asking the database again.
    related = {
        "survey": survey,
        "channel": channel,
        "member": member,
        "invitation": invitation,
        "location": location,
    }
    if Survey.organisation.is_cached(survey):
        related["organisation"] = survey.organisation
    response = _unsaved(
        Response,
        {**row, "id": None, "cells": row.get("cells")},
        related,
    )
    answers = [
        _unsaved(
            Answer,
            {
                "id": None,
                "organisation_id": survey.organisation_id,
                "response_id": None,
                "question_id": r["question"],
                "question_type": r["question_type"],
                "number": r["number"],
                "text": r["text"],
                "sentiment": r["sentiment"],
            },
            {"response": response},
        )
        for r in rows
    ]
    stored = StoredResponse(
        response=response,
        answers=answers,
        choice_ids={cid for v in clean.values() for cid in v.get("choice_ids", ())},
        submitted_at=stored_at,
        pooled=pooled,
    )
    return ResponseDraft(row=row, answers=rows, pairs=pairs, stored=stored)


def draft_write(
    draft: ResponseDraft,
    *,
    member_part: MemberAnswering | None = None,
    current: KioskCurrent | None = None,
    riders: Sequence[Rider] = (),
) -> StoredResponse | None:
    """INSERT the drafted response, its answers and chosen choices (in the caller's
    transaction, or as one statement of its own), and give the instances their ids; or
    nothing and None when the survey already has a response under this key (or
    `member_part`, the member's side written first, finds they had answered a survey taking
    one answer, or `current`, the kiosk as the caller last read it, has changed;
    statements.response_with_answers_insert). `riders`: the reactions' rows, written in
    the same statement (PostgreSQL)."""
    written = response_with_answers_insert(
        response=draft.row,
        answers=draft.answers,
        choices=draft.pairs,
        member=member_part,
        current=current,
        riders=riders,
    )
    if written is None:
        return None
    response_id, ids = written
    response = _loaded(draft.stored.response)
    response.pk = response_id
    for answer in draft.stored.answers:
        _loaded(answer)
        answer.pk, answer.response_id = ids[answer.question_id], response_id
    return draft.stored


def response_write(
    *, member_part: MemberAnswering | None = None, **draft: Any
) -> StoredResponse | None:
    """response_draft's response written by draft_write: the pool's release path."""
    return draft_write(response_draft(**draft), member_part=member_part)


def _float_text(value: float) -> str:
    """A float as PostgreSQL writes it with extra_float_digits = 1 (its shortest exact
    form, as repr, but "1" and "-0" for whole numbers)."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def response_cells(rows: list[dict[str, Any]], pairs: list[tuple[int, int]]) -> dict[str, Any]:
    """The response's `cells` exactly as PostgreSQL's triggers build them from its answers
    (surveys 0010): each question's number, non-empty text and sorted choice ids, and the
    sentiments' sum (in the answers' order: the order they are inserted in) and count."""
    chosen: dict[int, list[int]] = {}
    for qid, cid in pairs:
        chosen.setdefault(qid, []).append(cid)
    answers = {}
    for row in rows:
        cell: dict[str, Any] = {}
        if row["number"] is not None:
            cell["n"] = row["number"]
        if row["text"]:
            cell["t"] = row["text"]
        if row["question"] in chosen:
            cell["c"] = sorted(chosen[row["question"]])
        answers[str(row["question"])] = cell
    scores = [row["sentiment"] for row in rows if row["sentiment"] is not None]
    return {
        "a": answers,
        "s": _float_text(sum(scores)) if scores else None,
        "k": len(scores),
    }


def response_location(
    *, survey: Survey, member: Member | None, invitation: SurveyInvitation | None
) -> Location | None:
    """The store an answer given on the survey page is about: the invitation channel's,
    else the member's home store, else none (a visitor on a public link).

    A store of another organisation is never one (a member's home store is not tied to
    the organisation by a constraint), so it reads as none rather than leak across.
    """
    channel = invitation.channel if invitation is not None else None
    for candidate in (
        channel.location if channel is not None else None,
        member.location if member is not None else None,
    ):
        if candidate is not None and candidate.organisation_id == survey.organisation_id:
            return candidate
    return None
