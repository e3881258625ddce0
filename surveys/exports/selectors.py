"""The rows of a response export: one per response, one column per question.

Read for a million responses in one pass. One SQL statement pivots the answers (an
aggregate per question over the response's answers, grouped by response, ordered by id) and
is read through `values_list(...).iterator(chunk_size=…)`: a server-side cursor on
PostgreSQL, no model instances, a bounded number of rows in memory. Stores, channels and
choice labels are small tables read once into dictionaries, so the big statement joins only
what it must (answers, their choices, the member).

Who may be named, and what small groups withhold:

- member id, email and name are given only for a response that is not anonymous, whose
  respondent agreed to be contacted about it, whose member has not since withdrawn that
  consent in the consent centre, left the community or been erased (the rule follow-up
  emails obey, feedback.services.contact); an anonymous survey has no member columns;
- the organisation's minimum group size k: an export of fewer than k responses (but some)
  is refused (ExportRefused); a response whose store, or store and channel, has fewer than
  k responses among the exported ones is given without its store and channel, and with
  its day rather than its time. When that hides a single group, or fewer than k responses
  in all, the next-smallest groups are hidden too (complementary suppression), so the
  hidden rows never make up one small group that a total elsewhere could subtract out.
"""

from __future__ import annotations

import contextlib
import datetime
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
    TextField,
)
from django.utils import translation
from django.utils.translation import gettext as _

from communities.choices import ConsentPurpose, MemberStatus
from communities.models import ConsentRecord, Location, Organisation
from communities.views.settings import organisation_time_zone
from config.spreadsheet import FORMULA_STARTS
from surveys.choices import CHOICE_TYPES, TEXT_TYPES, Anonymity, ChannelKind, QuestionType
from surveys.exports.params import ExportParams
from surveys.models import Answer, Channel, Question, Response, Survey, translated

# Rows fetched from the server-side cursor at a time.
CHUNK_ROWS = 5000
# How several chosen answers share one cell.
CHOICE_SEPARATOR = "; "
_NOT_NAMED = frozenset({MemberStatus.ERASED, MemberStatus.UNSUBSCRIBED})


class ExportRefused(ValidationError):
    """The export would single people out; the message says why, for the staff member."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="too_few_responses")


class _IdList(Aggregate):
    """The ids aggregated, comma-separated, as text (GROUP_CONCAT / STRING_AGG)."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        clone = self.copy()
        clone.function = "STRING_AGG"
        clone.template = "%(function)s(CAST(%(expressions)s AS text), ',')"
        return clone.as_sql(compiler, connection, **extra_context)


@dataclass(frozen=True)
class _QuestionColumn:
    question: Question
    # What a stored value is written as: a choice id (as text) -> its label or code, or a
    # yes / no number -> its word; empty when the value is written as it is.
    labels: dict[Any, str] = field(default_factory=dict)


@dataclass
class ExportPlan:
    """What responses_export_rows writes: the header, the query and what it hides."""

    organisation: Organisation
    survey: Survey
    params: ExportParams
    header: list[str]
    rows_total: int
    named: bool
    zone: tzinfo
    questions: list[_QuestionColumn]
    responses: QuerySet
    # (store id, channel id) pairs whose responses are exported without store, channel, time
    hidden_groups: frozenset[tuple[int, int | None]]
    withdrawn: frozenset[int]
    stores: dict[int, str]
    channels: dict[int, str]
    link_label: str

    @property
    def filename(self) -> str:
        """A name safe in a Content-Disposition header and on any file system."""
        return f"survey-{self.survey.pk}-responses"


def export_responses(
    *, organisation: Organisation, survey: Survey, params: ExportParams
) -> QuerySet[Response]:
    """The survey's responses the filters match (dates are days in the organisation's
    time zone, both ends included)."""
    zone = organisation_time_zone(organisation)
    responses = Response.objects.for_organisation(organisation).filter(survey=survey)
    if params.since is not None:
        start = datetime.datetime.combine(params.since, datetime.time(), tzinfo=zone)
        responses = responses.filter(submitted_at__gte=start)
    if params.until is not None:
        end_day = params.until + datetime.timedelta(days=1)
        responses = responses.filter(
            submitted_at__lt=datetime.datetime.combine(end_day, datetime.time(), tzinfo=zone)
        )
    if params.channel is not None:
        # A response with no channel came through the public link (as the results page says).
        on_channel = Q(channel__kind=params.channel)
        if params.channel == ChannelKind.LINK:
            on_channel |= Q(channel__isnull=True)
        responses = responses.filter(on_channel)
    if params.location_id is not None:
        responses = responses.filter(location_id=params.location_id)
    if params.language is not None:
        responses = responses.filter(language=params.language)
    return responses


def _size_check(*, responses: QuerySet[Response], minimum: int) -> int:
    total = responses.count()
    if 0 < total < minimum:
        raise ExportRefused(
            _(
                "Only %(count)s responses match, fewer than %(minimum)s: an export this "
                "small could single people out. Widen the dates or remove a filter."
            )
            % {"count": total, "minimum": minimum}
        )
    return total


def export_size_check(*, organisation: Organisation, survey: Survey, params: ExportParams) -> int:
    """How many responses the export would hold; ExportRefused when fewer than the
    organisation's minimum group size (but some)."""
    responses = export_responses(organisation=organisation, survey=survey, params=params)
    return _size_check(responses=responses, minimum=organisation.min_group_size)


def _hidden_groups(
    *, responses: QuerySet[Response], minimum: int, kinds: dict[int, str]
) -> frozenset[tuple[int, int | None]]:
    """The (store id, channel id) pairs whose responses are exported without store, channel
    and time: see the module docstring."""
    rows = list(
        responses.filter(location__isnull=False)
        .order_by()
        .values_list("location_id", "channel_id")
        .annotate(n=Count("pk"))
    )
    per_store: Counter = Counter()
    per_cell: Counter = Counter()
    for store, channel, n in rows:
        per_store[store] += n
        per_cell[store, kinds.get(channel)] += n
    hidden = {cell for cell, n in per_cell.items() if n < minimum or per_store[cell[0]] < minimum}
    if hidden:
        # Complementary suppression: the hidden rows must not be one small group alone.
        shown = sorted(
            (cell for cell in per_cell if cell not in hidden),
            key=lambda cell: (per_cell[cell], cell[0], cell[1] or ""),
        )
        while shown and (len(hidden) < 2 or sum(per_cell[c] for c in hidden) < minimum):
            hidden.add(shown.pop(0))
    return frozenset(
        (store, channel) for store, channel, _n in rows if (store, kinds.get(channel)) in hidden
    )


def _withdrawn_members(*, organisation: Organisation) -> frozenset[int]:
    """Members whose latest decision on being contacted about their answers is a withdrawal
    (few: one query for the organisation)."""
    later_grant = ConsentRecord.objects.filter(
        member=OuterRef("member"),
        purpose=ConsentPurpose.CONTACT_FOLLOWUP,
        granted=True,
    ).filter(
        Q(recorded_at__gt=OuterRef("recorded_at"))
        | Q(recorded_at=OuterRef("recorded_at"), pk__gt=OuterRef("pk"))
    )
    return frozenset(
        ConsentRecord.objects.for_organisation(organisation)
        .filter(purpose=ConsentPurpose.CONTACT_FOLLOWUP, granted=False)
        .exclude(Exists(later_grant))
        .values_list("member_id", flat=True)
    )


def _question_columns(*, survey: Survey, params: ExportParams) -> list[_QuestionColumn]:
    """Every shown question by position, and a hidden one only if it holds answers, with
    what its answers are written as: choice labels (or codes) in the export's language,
    and yes / no in words unless codes were asked for."""
    questions = list(survey.questions.prefetch_related("choices").order_by("position"))
    hidden = [question for question in questions if question.hidden]
    answered = set(
        Answer.objects.filter(question__in=hidden)
        .order_by()
        .values_list("question_id", flat=True)
        .distinct()
        if hidden
        else ()
    )
    with translation.override(params.labels):
        yes_no = {1: _("Yes"), 0: _("No")}
    columns = []
    for question in questions:
        if question.hidden and question.pk not in answered:
            continue
        if question.type == QuestionType.YES_NO:
            labels = {} if params.codes else dict(yes_no)
        else:
            labels = {
                str(choice.pk): str(choice.position)
                if params.codes
                else translated(choice.label, params.labels)
                for choice in question.choices.all()
            }
        columns.append(_QuestionColumn(question=question, labels=labels))
    return columns


def _pivot(*, responses: QuerySet[Response], columns: list[_QuestionColumn]) -> QuerySet:
    """One row per response: its own fields, its member's, then per question the answer's
    number or text (and, for a choice question, its choice ids and any "other" text)."""
    aggregates: dict[str, Any] = {"export_sentiment": Avg("answers__sentiment")}
    for index, column in enumerate(columns):
        question = column.question
        mine = Q(answers__question_id=question.pk)
        if question.type in CHOICE_TYPES:
            aggregates[f"q{index}_c"] = _IdList("answers__choices", filter=mine)
            aggregates[f"q{index}_t"] = Max("answers__text", filter=mine)
        elif question.type in TEXT_TYPES:
            aggregates[f"q{index}_t"] = Max("answers__text", filter=mine)
        else:
            aggregates[f"q{index}_n"] = Max("answers__number", filter=mine)
    fields = [
        "pk",
        "submitted_at",
        "channel_id",
        "language",
        "location_id",
        "is_anonymous",
        "consent_to_contact",
        "member_id",
        "member__email",
        "member__name",
        "member__status",
    ]
    return responses.annotate(**aggregates).order_by("pk").values_list(*fields, *aggregates)


def responses_export_plan(
    *, organisation: Organisation, survey: Survey, params: ExportParams
) -> ExportPlan:
    """Everything the export's rows need, read once; ExportRefused when it would hold
    fewer than the organisation's minimum group size of responses (but some)."""
    responses = export_responses(organisation=organisation, survey=survey, params=params)
    total = _size_check(responses=responses, minimum=organisation.min_group_size)
    minimum = organisation.min_group_size
    channels = dict(
        Channel.objects.for_organisation(organisation)
        .filter(survey=survey)
        .values_list("pk", "kind")
    )
    columns = _question_columns(survey=survey, params=params)
    named = survey.anonymity != Anonymity.ANONYMOUS
    with translation.override(params.labels):
        kind_labels = {kind: str(label) for kind, label in ChannelKind.choices}
        header = [_("Response"), _("Submitted at"), _("Channel"), _("Language"), _("Store")]
        header.append(_("Sentiment"))
        if named:
            header += [_("Member"), _("Email"), _("Name")]
        header += [
            f"{column.question.position}. {column.question.text_for(params.labels)}"
            for column in columns
        ]
    return ExportPlan(
        organisation=organisation,
        survey=survey,
        params=params,
        header=header,
        rows_total=total,
        named=named,
        zone=organisation_time_zone(organisation),
        questions=columns,
        responses=_pivot(responses=responses, columns=columns),
        hidden_groups=_hidden_groups(responses=responses, minimum=minimum, kinds=channels)
        if total
        else frozenset(),
        withdrawn=_withdrawn_members(organisation=organisation) if named else frozenset(),
        stores=dict(
            Location.objects.for_organisation(organisation).values_list("pk", "name")
        ),
        channels={
            pk: kind if params.codes else kind_labels.get(kind, kind)
            for pk, kind in channels.items()
        },
        link_label=ChannelKind.LINK.value if params.codes else kind_labels[ChannelKind.LINK],
    )


def _reading():
    """On PostgreSQL, a transaction around the read: Django's server-side cursor is then
    declared WITHOUT HOLD, and rows stream as PostgreSQL produces them; in autocommit it
    would be WITH HOLD, which computes and stores the whole result before the first row.
    Not on SQLite, whose transactions here take the write lock (BEGIN IMMEDIATE)."""
    if connection.vendor == "postgresql":
        return transaction.atomic()
    return contextlib.nullcontext()


def _inert(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def responses_export_rows(*, plan: ExportPlan, inert: bool) -> Iterator[list[Any]]:
    """The export's rows after its header, in response id order. `inert`: text a
    spreadsheet would run as a formula gets a leading apostrophe (for CSV; an XLSX writer
    types its cells as text instead). A missing answer is None."""
    zone = plan.zone
    hidden = plan.hidden_groups
    stores, channels, link_label = plan.stores, plan.channels, plan.link_label
    named, withdrawn = plan.named, plan.withdrawn
    safe = _inert if inert else str
    if inert:
        stores = {pk: _inert(name) for pk, name in stores.items()}
    # Per question: how its values sit in the row, and a cache of finished choice cells.
    specs = []
    for column in plan.questions:
        kind = column.question.type
        if kind in CHOICE_TYPES:
            order = {pk: position for position, pk in enumerate(column.labels)}
            specs.append(("choice", column.labels, order, {}))
        elif kind in TEXT_TYPES:
            specs.append(("text", None, None, None))
        else:
            specs.append(("number", column.labels or None, None, None))
    anonymous_member = ("", "", "")
    with _reading():
        for row in plan.responses.iterator(chunk_size=CHUNK_ROWS):
            (pk, at, channel_id, language, store_id, anonymous, consent) = row[:7]
            (member_id, email, name, status, sentiment) = row[7:12]
            local = at.astimezone(zone)
            if store_id is not None and (store_id, channel_id) in hidden:
                out = [pk, local.date().isoformat(), "", language, ""]
            else:
                channel = link_label if channel_id is None else channels.get(channel_id, "")
                store = "" if store_id is None else stores.get(store_id, "")
                out = [pk, local.isoformat(timespec="seconds"), channel, language, store]
            out.append(None if sentiment is None else round(sentiment, 2))
            if named:
                if (
                    member_id is not None
                    and consent
                    and not anonymous
                    and status not in _NOT_NAMED
                    and member_id not in withdrawn
                ):
                    out += (member_id, safe(email), safe(name))
                else:
                    out += anonymous_member
            values = iter(row[12:])
            for kind, labels, order, cache in specs:
                if kind == "number":
                    number = next(values)
                    out.append(number if labels is None or number is None else labels[number])
                elif kind == "text":
                    text = next(values)
                    out.append(safe(text) if text else None)
                else:
                    ids, other = next(values), next(values)
                    cell = None
                    if ids:
                        cell = cache.get(ids)
                        if cell is None:
                            chosen = sorted(ids.split(","), key=lambda pk: order.get(pk, 0))
                            cell = CHOICE_SEPARATOR.join(labels.get(pk, "") for pk in chosen)
                            cell = cache[ids] = safe(cell)
                    if other:
                        # Only a cell's start can make it a formula.
                        cell = f"{cell}{CHOICE_SEPARATOR}{other}" if cell else safe(other)
                    out.append(cell)
            yield out
