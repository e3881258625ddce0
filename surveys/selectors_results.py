"""A survey's results, for its staff page (surveys.views.results) and the results API
(surveys.api.results), which render the same `SurveyResults` so they never disagree.

Every figure comes from surveys.metrics and every table goes through surveys.disclosure,
as on the organisation dashboard: a group of fewer than k responses is "fewer than k", the
next-smallest group is hidden with it wherever a total shown on the page would give it
away (the grand total, each store's total, each channel's total, a question's answers), a
figure resting on fewer than k answers is withheld, and a filter that narrows the survey
to fewer than k responses shows no figures at all (not even how many matched).

The survey's own response count is shown whatever its size (the survey list shows it
too); below k it comes with no figures.

Every figure is finished here from `ResultsCounts`, which a reader counts: insights
registers one that reads its roll-ups (so a page over a million responses sums a few
thousand rows); without it (insights not installed) `results_counts_scan` counts the
responses themselves. Both give equal counts (tests/insights/test_results_reader_equal.py).
Either way a fixed number of queries whatever the data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, QuerySet
from django.utils.translation import gettext as _

from communities.models import Organisation
from surveys.choices import CHOICE_TYPES, NUMBER_TYPES, QuestionType, SurveyKind
from surveys.disclosure import (
    Cell,
    StoreTable,
    enough,
    is_small,
    line_cells,
    store_table,
    suppress_line,
)
from surveys.exports.params import ExportParams
from surveys.exports.selectors import export_responses
from surveys.metrics import components_add, figures_from, metric_aggregates
from surveys.models import Answer, PooledAnswer, Question, Response, Survey
from surveys.poll_trend import PollTrend, poll_trend
from surveys.services.pool import POOL_MIN_BATCH


@dataclass(frozen=True)
class NpsFigures:
    """NPS and its split; each None when withheld (too few answers, or a small group)."""

    score: float | None
    answers: int | None
    promoters: int | None
    passives: int | None
    detractors: int | None


@dataclass(frozen=True)
class QuestionCell:
    value: int | None  # the score (number questions)
    choice_id: int | None  # the choice (choice questions)
    label: str
    count: int | None  # None: hidden
    percent: int | None


@dataclass(frozen=True)
class QuestionSplit:
    question: Question
    answers: int | None  # None: fewer than k answered
    suppressed: bool  # the split is withheld: fewer than k answered
    cells: list[QuestionCell]


@dataclass
class SurveyResults:
    k: int
    filtered: bool
    # The responses the filters match (all of the survey's, unfiltered); None when a
    # filter narrowed them to fewer than k.
    responses: int | None
    withheld: bool  # fewer than k responses: no figures
    pooled: int
    pool_batch: int
    cases_open: int
    has_csat: bool
    nps: NpsFigures | None = None
    csat: float | None = None  # percent satisfied (4 or 5 of 5)
    csat_mean: float | None = None
    stars: float | None = None
    sentiment: float | None = None  # the mean sentiment of text answers
    by_language: list[Cell] = field(default_factory=list)
    stores: StoreTable | None = None
    questions: list[QuestionSplit] = field(default_factory=list)
    poll_trend: PollTrend | None = None  # a poll's answers per week or month


def _nps(*, answers: int, promoters: int, detractors: int, score: float | None, k: int):
    if not enough(answers, k=k):
        return NpsFigures(
            score=None,
            answers=None if is_small(answers, k=k) else answers,
            promoters=None,
            passives=None,
            detractors=None,
        )
    split = {"promoters": promoters, "passives": answers - promoters - detractors}
    split["detractors"] = detractors
    hidden = suppress_line(split, k=k)
    return NpsFigures(
        score=score,
        answers=answers,
        **{name: None if name in hidden else n for name, n in split.items()},
    )


def _options(question: Question) -> list[tuple[int | None, int | None, str]]:
    """A question's cells in the order a poll draws its bars: (value, choice id, label)
    for each choice, or for each score of the scale (yes before no)."""
    if question.type in CHOICE_TYPES:
        return [(None, choice.pk, choice.label_for()) for choice in question.choices.all()]
    if question.type == QuestionType.YES_NO:
        return [(1, None, _("Yes")), (0, None, _("No"))]
    if question.type in NUMBER_TYPES and question.bounds:
        low, high = question.bounds
        return [(n, None, str(n)) for n in range(low, high + 1)]
    return []


@dataclass(frozen=True)
class ResultsCounts:
    """The counts every figure of a survey's results is finished from: metric components
    (surveys.metrics) of the whole filtered set, per language and per store × channel, the
    mean sentiment of its text answers, and each question's answers, per score and per
    choice. Counts only, so a scan of the responses and a read of roll-ups give equal ones."""

    total: dict[str, int]
    sentiment_mean: float | None
    by_language: list[dict]  # "language" and the components
    by_store_channel: list[dict]  # "location_id", "location__name", "channel__kind", components
    question_answers: dict[int, int]  # question id: answers
    by_number: dict[int, dict[int, int]]  # question id: {score: answers}
    by_choice: dict[int, dict[int, int]]  # question id: {choice id: answers ticking it}
    # The trend question's answers per stored day: (day, score, choice id, answers), the
    # day's answers when both are None (only when a reader is asked for a trend).
    days: list[tuple[dt.date, int | None, int | None, int]] = field(default_factory=list)


# Reads ResultsCounts(organisation=…, survey=…, params=…) from somewhere faster than the
# responses (insights registers its roll-ups in its AppConfig.ready): surveys sits below
# insights and may not import it, so the faster source is handed down through this hook.
ResultsReader = Callable[..., ResultsCounts]
_readers: list[ResultsReader] = []


def register_results_reader(reader: ResultsReader | None) -> None:
    """Read every survey's results through `reader` from now on (None: scan the responses
    again). One reader at a time; the last registered wins."""
    _readers.clear()
    if reader is not None:
        _readers.append(reader)


# Links from the page's figures to the responses behind them ({"detractors": url}), for
# organisation=, survey= and query= (the page's query string): the responses page is
# insights', so insights registers the builder, and without it the figures link nowhere.
ResultsLinks = Callable[..., dict[str, str]]
_links: list[ResultsLinks] = []


def register_results_links(builder: ResultsLinks | None) -> None:
    """Build the results page's links to responses with `builder` (None: no links)."""
    _links.clear()
    if builder is not None:
        _links.append(builder)


def results_links(*, organisation: Organisation, survey: Survey, query: Any) -> dict[str, str]:
    """The results page's links to the responses behind its figures (empty without a
    registered builder)."""
    if not _links:
        return {}
    return _links[0](organisation=organisation, survey=survey, query=query)


def results_reader() -> ResultsReader:
    """The reader in use: a registered one, or the scan of the responses."""
    return _readers[0] if _readers else results_counts_scan


def results_counts_scan(
    *,
    organisation: Organisation,
    survey: Survey,
    params: ExportParams,
    trend_question: int | None = None,
) -> ResultsCounts:
    """The counts read straight from the responses and answers the filters match (and
    `trend_question`'s per day)."""
    responses = export_responses(organisation=organisation, survey=survey, params=params)
    aggregates = metric_aggregates()
    row = responses.aggregate(**aggregates, sentiment_mean=Avg("answers__sentiment"))
    answers = Answer.objects.for_organisation(organisation).filter(
        response__in=responses.values("pk")
    )
    totals = dict(answers.values_list("question_id").annotate(n=Count("pk")).order_by())
    by_number: dict[int, dict[int, int]] = defaultdict(dict)
    numbered = answers.filter(number__isnull=False).values_list("question_id", "number")
    for question_id, number, n in numbered.annotate(n=Count("pk")).order_by():
        by_number[question_id][number] = n
    by_choice: dict[int, dict[int, int]] = defaultdict(dict)
    chosen = Answer.choices.through.objects.filter(answer__in=answers.values("pk")).values_list(
        "answer__question_id", "choice_id"
    )
    for question_id, choice_id, n in chosen.annotate(n=Count("answer_id")).order_by():
        by_choice[question_id][choice_id] = n
    return ResultsCounts(
        total=components_add([row]),
        sentiment_mean=row["sentiment_mean"],
        by_language=list(responses.values("language").annotate(**aggregates).order_by()),
        by_store_channel=list(
            responses.values("location_id", "location__name", "channel__kind")
            .annotate(**aggregates)
            .order_by()
        ),
        question_answers=totals,
        by_number=dict(by_number),
        by_choice=dict(by_choice),
        days=question_days_scan(answers=answers, question_id=trend_question),
    )


def question_days_scan(
    *, answers: QuerySet, question_id: int | None
) -> list[tuple[dt.date, int | None, int | None, int]]:
    """One question's answers per stored day (ResultsCounts.days), from `answers`."""
    if question_id is None:
        return []
    answers = answers.filter(question_id=question_id)
    day = "response__submitted_on"
    rows = [
        (on, None, None, n) for on, n in answers.values_list(day).annotate(n=Count("pk")).order_by()
    ]
    numbered = answers.filter(number__isnull=False).values_list(day, "number")
    rows += [(on, number, None, n) for on, number, n in numbered.annotate(n=Count("pk")).order_by()]
    ticks = Answer.choices.through.objects.filter(answer__in=answers.values("pk"))
    ticked = ticks.values_list(f"answer__{day}", "choice_id").annotate(n=Count("answer_id"))
    rows += [(on, None, choice, n) for on, choice, n in ticked.order_by()]
    return rows


def _questions(*, survey: Survey, counts: ResultsCounts, k: int) -> list[QuestionSplit]:
    """Each shown question's answers and split, each split through disclosure against the
    question's answers (shown beside it)."""
    questions = list(
        survey.questions.filter(hidden=False).prefetch_related("choices").order_by("position")
    )
    splits = []
    for question in questions:
        total = counts.question_answers.get(question.pk, 0)
        options = _options(question)
        numbers = counts.by_number.get(question.pk, {})
        choices = counts.by_choice.get(question.pk, {})
        tallies = {
            index: (choices.get(choice_id, 0) if choice_id is not None else numbers.get(value, 0))
            for index, (value, choice_id, _label) in enumerate(options)
        }
        splits.append(_split(question=question, total=total, options=options, counts=tallies, k=k))
    return splits


def _split(
    *,
    question: Question,
    total: int,
    options: list[tuple[int | None, int | None, str]],
    counts: dict[int, int],
    k: int,
) -> QuestionSplit:
    """One question's cells (counts by option index) through disclosure against its total."""
    suppressed = not enough(total, k=k)
    hidden = set(counts) if suppressed else suppress_line(counts, k=k)
    cells = [
        QuestionCell(
            value=value,
            choice_id=choice_id,
            label=label,
            count=None if index in hidden else counts[index],
            percent=None
            if index in hidden
            else (round(100 * counts[index] / total) if total else 0),
        )
        for index, (value, choice_id, label) in enumerate(options)
    ]
    answered = None if is_small(total, k=k) else total
    return QuestionSplit(question, answered, suppressed, cells)


def _cases_open(*, organisation: Organisation, survey: Survey) -> int:
    """The survey's cases not yet resolved, counted from the cases' side: SQLite, asked
    from the responses' side, walked all of a survey's responses (97 ms at a million) to
    find a few cases. The case model is the follow-up layer's, above this one, so it is
    reached through the relation it declares on Response rather than imported."""
    case = Response._meta.get_field("case").related_model
    return (
        case.objects.filter(organisation=organisation, response__survey=survey)
        .exclude(status="resolved")
        .count()
    )


def survey_results(
    *,
    organisation: Organisation,
    survey: Survey,
    params: ExportParams | None = None,
    every: str | None = None,
) -> SurveyResults:
    """The survey's figures over the responses `params` select (its dates, channel,
    store and language; all of them when None), with every small group withheld; for a
    poll, its answers per `every` ("week" or "month"; chosen by the span when None)."""
    k = organisation.min_group_size
    params = params or ExportParams()
    filtered = params.filtered
    trend_question = None
    if survey.kind == SurveyKind.POLL:
        first = survey.questions.filter(hidden=False).order_by("position").first()
        trend_question = first.pk if first is not None else None
    counts = results_reader()(
        organisation=organisation, survey=survey, params=params, trend_question=trend_question
    )
    figures = figures_from(counts.total)
    n = figures.responses
    results = SurveyResults(
        k=k,
        filtered=filtered,
        responses=None if filtered and is_small(n, k=k) else n,
        withheld=not enough(n, k=k),
        # A number only: which answers wait, and whose, is what the pool hides.
        pooled=PooledAnswer.objects.for_organisation(organisation).filter(survey=survey).count(),
        pool_batch=max(POOL_MIN_BATCH, k),
        cases_open=_cases_open(organisation=organisation, survey=survey),
        has_csat=survey.questions.filter(type=QuestionType.CSAT, hidden=False).exists(),
    )
    if results.withheld:
        return results
    results.nps = _nps(
        answers=figures.nps_answers,
        promoters=figures.promoters,
        detractors=figures.detractors,
        score=figures.nps,
        k=k,
    )
    if enough(figures.csat_answers, k=k):
        results.csat, results.csat_mean = figures.csat, figures.csat_mean
    if enough(figures.stars_answers, k=k):
        results.stars = figures.stars
    if enough(figures.sentiment_scored, k=k) and counts.sentiment_mean is not None:
        # Sums added in another order differ in the last bits of a float: rounded to 9
        # places first, the shown mean is the same whichever reader added them.
        results.sentiment = round(round(counts.sentiment_mean, 9), 2)
    languages = {
        group["language"]: group
        for group in sorted(counts.by_language, key=lambda group: group["language"])
    }
    results.by_language = line_cells(languages, {code: code for code in languages}, k=k)
    results.stores = store_table(grouped=counts.by_store_channel, no_store=_("No store"), k=k)
    results.questions = _questions(survey=survey, counts=counts, k=k)
    if trend_question is not None and results.questions:
        results.poll_trend = poll_trend(
            options=_options(results.questions[0].question),
            days=counts.days,
            k=k,
            interval=every,
        )
    return results
