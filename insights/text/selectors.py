"""Text answers and their top terms, under the minimum group size.

The list is the answers' rows (a fixed number of queries per page). The top terms are
counted over the newest TERMS_SAMPLE answers of the filtered set, tokenized in Python
(insights/text/tokenize.py): a term's count is how many answers use it, so one long
answer repeating a word does not top the list.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace

from django.db.models import Count, Q, QuerySet

from communities.models import Organisation, Segment
from communities.selectors import members_matching
from insights.drill.filters import ResponseFilters, places_hidden, responses_selected
from insights.selectors import interval_start
from insights.text.tokenize import terms
from surveys.choices import TEXT_TYPES
from surveys.disclosure import is_small, suppress_line
from surveys.metrics import SENTIMENT_NEGATIVE_BELOW, SENTIMENT_POSITIVE_ABOVE
from surveys.models import Answer

TERMS_SAMPLE = 2000
TOP_TERMS = 8
SEGMENTS_SHOWN = 12
SENTIMENTS = {
    "negative": Q(sentiment__lt=SENTIMENT_NEGATIVE_BELOW),
    "neutral": Q(sentiment__gte=SENTIMENT_NEGATIVE_BELOW, sentiment__lte=SENTIMENT_POSITIVE_ABOVE),
    "positive": Q(sentiment__gt=SENTIMENT_POSITIVE_ABOVE),
}


@dataclass(frozen=True)
class TextFilters:
    responses: ResponseFilters
    sentiment: str | None = None
    keyword: str = ""

    def but(self, **changes) -> TextFilters:
        return dataclass_replace(self, **changes)


@dataclass
class TermGroup:
    """One period or segment: its top terms, or none when its group is under k."""

    key: object
    label: str
    hidden: bool
    responses: int | None
    terms: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class TextAnswers:
    k: int
    count: int | None  # responses behind the answers; None when withheld (under k)
    answers: QuerySet | None = None
    hidden_locations: set = field(default_factory=set)
    periods: list[TermGroup] = field(default_factory=list)
    segments: list[TermGroup] = field(default_factory=list)
    sampled: bool = False

    @property
    def withheld(self) -> bool:
        return self.count is None


def answers_selected(*, organisation: Organisation, filters: TextFilters) -> QuerySet:
    """The non-empty text answers of the responses the filters select."""
    responses = responses_selected(organisation=organisation, filters=filters.responses)
    answers = (
        Answer.objects.for_organisation(organisation)
        .filter(question_type__in=TEXT_TYPES, response__in=responses)
        .exclude(text="")
    )
    if filters.sentiment in SENTIMENTS:
        answers = answers.filter(SENTIMENTS[filters.sentiment])
    if filters.keyword:
        answers = answers.filter(text__icontains=filters.keyword)
    return answers


def text_answers(
    *, organisation: Organisation, filters: TextFilters, with_terms: bool = True
) -> TextAnswers:
    """The text answers the filters select, newest first, and their top terms; nothing
    when they come from fewer than k responses."""
    k = organisation.min_group_size
    answers = answers_selected(organisation=organisation, filters=filters)
    count = answers.values("response_id").distinct().count()
    if count < k:
        return TextAnswers(k=k, count=None if count else 0)
    per_location = {
        row["response__location_id"]: row["n"]
        for row in answers.values("response__location_id")
        .annotate(n=Count("response_id", distinct=True))
        .order_by()
    }
    listed = answers.select_related(
        "response__survey", "response__location", "response__case", "question"
    ).order_by("-response__submitted_at", "-pk")
    result = TextAnswers(
        k=k,
        count=count,
        answers=listed,
        hidden_locations=places_hidden(counts=per_location, k=k),
    )
    if with_terms:
        _top_terms(result=result, organisation=organisation, answers=answers, filters=filters)
    return result


def _document_frequency(texts: list[str], cache: dict[str, frozenset[str]]) -> Counter:
    counted: Counter = Counter()
    for text in texts:
        if text not in cache:
            cache[text] = frozenset(terms(text))
        counted.update(cache[text])
    return counted


def _ranked(counted: Counter, *, at_least: int = 1) -> list[tuple[str, int]]:
    # Most used first; ties in alphabetical order so the list never depends on row order.
    ranked = sorted(
        ((term, n) for term, n in counted.items() if n >= at_least), key=lambda t: (-t[1], t[0])
    )
    return ranked[:TOP_TERMS]


def _top_terms(
    *, result: TextAnswers, organisation: Organisation, answers: QuerySet, filters: TextFilters
) -> None:
    """Top terms per period (the dashboard's day/week/month for the range) and per segment."""
    k = result.k
    sample = list(
        answers.order_by("-response__submitted_at", "-pk").values_list(
            "response_id", "text", "response__submitted_on", "response__member_id"
        )[:TERMS_SAMPLE]
    )
    result.sampled = len(sample) == TERMS_SAMPLE
    cache: dict[str, frozenset[str]] = {}
    interval = filters.responses.dashboard().bucket
    periods: dict = {}
    for response_id, text, day, _member in sample:
        group = periods.setdefault(interval_start(day, interval), ({}, []))
        group[0][response_id] = True
        group[1].append(text)
    counts = {start: len(group[0]) for start, group in periods.items()}
    hidden = suppress_line(counts, k=k)
    for start in sorted(periods):
        shown = start not in hidden
        result.periods.append(
            TermGroup(
                key=start,
                label=start.isoformat(),
                hidden=not shown,
                responses=counts[start] if shown else None,
                terms=_ranked(_document_frequency(periods[start][1], cache)) if shown else [],
            )
        )
    members = {member for _r, _t, _d, member in sample if member is not None}
    if not members:
        return
    segments = (
        Segment.objects.for_organisation(organisation)
        .select_related("community")
        .order_by("name")[:SEGMENTS_SHOWN]
    )
    for segment in segments:
        inside = set(
            members_matching(community=segment.community, filter=segment.filter)
            .filter(pk__in=members)
            .values_list("pk", flat=True)
        )
        rows = [(r, text) for r, text, _d, member in sample if member in inside]
        n = len({r for r, _text in rows})
        if n == 0:
            continue
        small = is_small(n, k=k)
        # Segments overlap and have no shown total, so no complement to hide; a term is
        # listed only when k answers use it, or it would tie one answer to the segment.
        result.segments.append(
            TermGroup(
                key=segment.pk,
                label=segment.name,
                hidden=small,
                responses=None if small else n,
                terms=[]
                if small
                else _ranked(_document_frequency([t for _r, t in rows], cache), at_least=k),
            )
        )
