"""What a response export holds, decided before its rows are read (surveys.exports.rows).

Which responses: the survey's, narrowed by the results page's filters. Which columns: the
response's own (time in the organisation's time zone, channel, language, store,
sentiment), the member's where the survey is not anonymous, then one per question (a
hidden question only if it holds answers), labelled in the chosen language.

Who may be named, and what small groups withhold:

- member id, email and name are given only for a response that is not anonymous, whose
  respondent agreed to be contacted about it, and whose member has not since withdrawn
  that consent in the consent centre, left the community or been erased (the rule
  follow-up emails obey, feedback.services.contact); an anonymous survey has no member
  columns;
- the organisation's minimum group size k: an export of fewer than k responses (but some)
  is refused (ExportRefused); a response whose store, or store and channel, has fewer than
  k responses among the exported ones is given without its store and channel, and with
  its day rather than its time. When that would hide a single group, or fewer than k
  responses in all, the next-smallest groups are hidden too (complementary suppression),
  so the hidden rows never make up one small group that a total elsewhere could
  subtract out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from communities.choices import ConsentPurpose
from communities.models import ConsentRecord, Location, Organisation
from communities.views.settings import organisation_time_zone
from surveys.choices import Anonymity, ChannelKind, QuestionType
from surveys.exports.params import ExportParams
from surveys.models import Answer, Channel, Question, Response, Survey, translated


class ExportRefused(ValidationError):
    """The export would single people out; the message says why, for the staff member."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="too_few_responses")


@dataclass(frozen=True)
class QuestionColumn:
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
    questions: list[QuestionColumn]
    # The matching responses, unordered (surveys.exports.rows pivots them)
    responses: QuerySet[Response]
    # (store id, channel id) pairs whose responses are exported without store, channel, time
    hidden_groups: frozenset[tuple[int, int | None]]
    withdrawn: frozenset[int]
    stores: dict[int, str]
    channels: dict[int, str]
    link_label: str


def export_responses(
    *, organisation: Organisation, survey: Survey, params: ExportParams
) -> QuerySet[Response]:
    """The survey's responses the filters match (dates are days in the organisation's
    time zone, both ends included: the stored day of each response, as the dashboard and
    the results' roll-ups count them)."""
    responses = Response.objects.for_organisation(organisation).filter(survey=survey)
    if params.since is not None:
        responses = responses.filter(submitted_on__gte=params.since)
    if params.until is not None:
        responses = responses.filter(submitted_on__lte=params.until)
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
            ngettext(
                "Only %(count)s response matches, fewer than %(minimum)s: an export this small "
                "could single people out. Widen the dates or remove a filter.",
                "Only %(count)s responses match, fewer than %(minimum)s: an export this small "
                "could single people out. Widen the dates or remove a filter.",
                total,
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


def _question_columns(*, survey: Survey, params: ExportParams) -> list[QuestionColumn]:
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
        columns.append(QuestionColumn(question=question, labels=labels))
    return columns


def responses_export_plan(
    *, organisation: Organisation, survey: Survey, params: ExportParams
) -> ExportPlan:
    """Everything the export's rows need, read once; ExportRefused when it would hold
    fewer than the organisation's minimum group size of responses (but some)."""
    minimum = organisation.min_group_size
    responses = export_responses(organisation=organisation, survey=survey, params=params)
    total = _size_check(responses=responses, minimum=minimum)
    channels = dict(
        Channel.objects.for_organisation(organisation)
        .filter(survey=survey)
        .values_list("pk", "kind")
    )
    columns = _question_columns(survey=survey, params=params)
    named = survey.anonymity != Anonymity.ANONYMOUS
    with translation.override(params.labels):
        kind_labels = {kind: str(label) for kind, label in ChannelKind.choices}
        header = [
            _("Response"),
            _("Submitted at"),
            _("Channel"),
            _("Language"),
            _("Store"),
            _("Sentiment"),
        ]
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
        responses=responses,
        hidden_groups=_hidden_groups(responses=responses, minimum=minimum, kinds=channels)
        if total
        else frozenset(),
        withdrawn=_withdrawn_members(organisation=organisation) if named else frozenset(),
        stores=dict(Location.objects.for_organisation(organisation).values_list("pk", "name")),
        channels={
            pk: kind if params.codes else kind_labels.get(kind, kind)
            for pk, kind in channels.items()
        },
        link_label=ChannelKind.LINK.value if params.codes else kind_labels[ChannelKind.LINK],
    )
