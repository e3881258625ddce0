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

A fixed number of queries whatever the data: one aggregate, one grouping by language,
one by store × channel, three for the questions' splits (plus the questions and their
choices), one each for the pool and the open cases.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Avg, Count, QuerySet
from django.utils.translation import gettext as _

from communities.models import Organisation
from surveys.choices import CHOICE_TYPES, NUMBER_TYPES, QuestionType
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
from surveys.metrics import figures_from, metric_aggregates
from surveys.models import Answer, PooledAnswer, Question, Response, Survey
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


def _questions(*, organisation: Organisation, survey: Survey, responses: QuerySet, k: int):
    """Each shown question's answers and split, each split through disclosure against the
    question's answers (shown beside it)."""
    questions = list(
        survey.questions.filter(hidden=False).prefetch_related("choices").order_by("position")
    )
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
    splits = []
    for question in questions:
        total = totals.get(question.pk, 0)
        options = _options(question)
        counts = {
            index: (
                by_choice[question.pk].get(choice_id, 0)
                if choice_id is not None
                else by_number[question.pk].get(value, 0)
            )
            for index, (value, choice_id, _label) in enumerate(options)
        }
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
        splits.append(QuestionSplit(question, answered, suppressed, cells))
    return splits


def survey_results(
    *, organisation: Organisation, survey: Survey, params: ExportParams | None = None
) -> SurveyResults:
    """The survey's figures over the responses `params` select (its dates, channel,
    store and language; all of them when None), with every small group withheld."""
    k = organisation.min_group_size
    params = params or ExportParams()
    filtered = params.filtered
    responses = export_responses(organisation=organisation, survey=survey, params=params)
    row = responses.aggregate(**metric_aggregates(), sentiment_mean=Avg("answers__sentiment"))
    figures = figures_from(row)
    n = figures.responses
    results = SurveyResults(
        k=k,
        filtered=filtered,
        responses=None if filtered and is_small(n, k=k) else n,
        withheld=not enough(n, k=k),
        # A number only: which answers wait, and whose, is what the pool hides.
        pooled=PooledAnswer.objects.for_organisation(organisation).filter(survey=survey).count(),
        pool_batch=max(POOL_MIN_BATCH, k),
        cases_open=Response.objects.for_organisation(organisation)
        .filter(survey=survey, case__isnull=False)
        .exclude(case__status="resolved")
        .count(),
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
    if enough(figures.sentiment_scored, k=k) and row["sentiment_mean"] is not None:
        results.sentiment = round(row["sentiment_mean"], 2)
    aggregates = metric_aggregates()
    languages = {
        group["language"]: group
        for group in responses.values("language").annotate(**aggregates).order_by("language")
    }
    results.by_language = line_cells(languages, {code: code for code in languages}, k=k)
    grouped = (
        responses.values("location_id", "location__name", "channel__kind")
        .annotate(**aggregates)
        .order_by()
    )
    results.stores = store_table(grouped=grouped, no_store=_("No store"), k=k)
    results.questions = _questions(
        organisation=organisation, survey=survey, responses=responses, k=k
    )
    return results
