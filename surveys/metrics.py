"""The metric vocabulary, defined once: every figure Chorus reports about answers is built
from the aggregates here and finished by the functions here (README, "Metrics").

Each metric is a handful of SQL aggregates (counts and sums, never a ratio) that any query
over responses can `.aggregate()` or `.annotate()` after its own `values()` grouping; the
ratio is taken in Python by `figures_from`. Counts and sums add up, so a breakdown's rows
can be merged (days into weeks, a link channel with the survey's own link) without
asking the database again, and the disclosure rules (surveys.disclosure) see the counts
each figure rests on.

The aggregates assume a query over `Response` rows (the `answers__` path); pass another
prefix to aggregate from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Aggregate, Count, Q, Sum

from surveys.choices import QuestionType

# NPS (0–10): promoters answer 9–10, detractors 0–6.
NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6
# CSAT (1–5 faces): satisfied answers 4 or 5.
CSAT_SATISFIED_MIN = 4
STAR_VALUES = (1, 2, 3, 4, 5)
# A text answer is negative below the threshold feedback's default follow-up rule opens a
# case at, and positive above its mirror image; neutral between. Written here because
# surveys sits below feedback; tests/insights/test_metrics_home.py keeps the two equal.
SENTIMENT_NEGATIVE_BELOW = -0.3
SENTIMENT_POSITIVE_ABOVE = -SENTIMENT_NEGATIVE_BELOW

# The component names, in the order `metric_aggregates` returns them.
COMPONENTS = (
    "responses",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
    "csat_answers",
    "csat_satisfied",
    "csat_sum",
    "stars_answers",
    "stars_sum",
    *(f"stars_{value}" for value in STAR_VALUES),
    "rating_answers",
    "rating_sum",
    "sentiment_scored",
    "sentiment_negative",
    "sentiment_positive",
)


def metric_aggregates(*, answers: str = "answers__", response: str = "pk") -> dict[str, Aggregate]:
    """Every metric's SQL components, for `.aggregate(**…)` or `.annotate(**…)` on a
    response query (`answers` is the path to its answers, `response` to its key)."""

    def of(kind: str, extra: Q | None = None) -> Q:
        q = Q(**{f"{answers}question_type": kind, f"{answers}number__isnull": False})
        return q & extra if extra is not None else q

    number = f"{answers}number"
    sentiment = f"{answers}sentiment"
    return {
        "responses": Count(response, distinct=True),
        "nps_answers": Count(f"{answers}pk", filter=of(QuestionType.NPS)),
        "nps_promoters": Count(
            f"{answers}pk", filter=of(QuestionType.NPS, Q(**{f"{number}__gte": NPS_PROMOTER_MIN}))
        ),
        "nps_detractors": Count(
            f"{answers}pk", filter=of(QuestionType.NPS, Q(**{f"{number}__lte": NPS_DETRACTOR_MAX}))
        ),
        "csat_answers": Count(f"{answers}pk", filter=of(QuestionType.CSAT)),
        "csat_satisfied": Count(
            f"{answers}pk",
            filter=of(QuestionType.CSAT, Q(**{f"{number}__gte": CSAT_SATISFIED_MIN})),
        ),
        "csat_sum": Sum(number, filter=of(QuestionType.CSAT)),
        "stars_answers": Count(f"{answers}pk", filter=of(QuestionType.STAR)),
        "stars_sum": Sum(number, filter=of(QuestionType.STAR)),
        **{
            f"stars_{value}": Count(
                f"{answers}pk", filter=of(QuestionType.STAR, Q(**{number: value}))
            )
            for value in STAR_VALUES
        },
        "rating_answers": Count(f"{answers}pk", filter=of(QuestionType.RATING)),
        "rating_sum": Sum(number, filter=of(QuestionType.RATING)),
        "sentiment_scored": Count(f"{answers}pk", filter=Q(**{f"{sentiment}__isnull": False})),
        "sentiment_negative": Count(
            f"{answers}pk", filter=Q(**{f"{sentiment}__lt": SENTIMENT_NEGATIVE_BELOW})
        ),
        "sentiment_positive": Count(
            f"{answers}pk", filter=Q(**{f"{sentiment}__gt": SENTIMENT_POSITIVE_ABOVE})
        ),
    }


def components_add(rows: Iterable[Mapping[str, int | None]]) -> dict[str, int]:
    """Several groups' components as one group's (a response is in one group only)."""
    total = dict.fromkeys(COMPONENTS, 0)
    for row in rows:
        for name in COMPONENTS:
            total[name] += row.get(name) or 0
    return total


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


@dataclass(frozen=True)
class Figures:
    """One group's metrics, each None when nobody in the group gave the answer it needs."""

    responses: int
    nps: float | None  # −100…100, one decimal
    nps_answers: int
    promoters: int
    passives: int
    detractors: int
    csat: float | None  # percent satisfied, one decimal
    csat_mean: float | None
    csat_answers: int
    stars: float | None
    stars_answers: int
    stars_distribution: dict[int, int]
    rating: float | None
    rating_answers: int
    sentiment_scored: int
    sentiment_negative: float | None  # percent of scored text answers
    sentiment_neutral: float | None
    sentiment_positive: float | None


def figures_from(row: Mapping[str, int | None]) -> Figures:
    """The metrics of one group, from its components (`metric_aggregates`)."""
    c = components_add([row])
    scored = c["sentiment_scored"]
    neutral = scored - c["sentiment_negative"] - c["sentiment_positive"]
    return Figures(
        responses=c["responses"],
        nps=_percent(c["nps_promoters"] - c["nps_detractors"], c["nps_answers"]),
        nps_answers=c["nps_answers"],
        promoters=c["nps_promoters"],
        passives=c["nps_answers"] - c["nps_promoters"] - c["nps_detractors"],
        detractors=c["nps_detractors"],
        csat=_percent(c["csat_satisfied"], c["csat_answers"]),
        csat_mean=_mean(c["csat_sum"], c["csat_answers"]),
        csat_answers=c["csat_answers"],
        stars=_mean(c["stars_sum"], c["stars_answers"]),
        stars_answers=c["stars_answers"],
        stars_distribution={value: c[f"stars_{value}"] for value in STAR_VALUES},
        rating=_mean(c["rating_sum"], c["rating_answers"]),
        rating_answers=c["rating_answers"],
        sentiment_scored=scored,
        sentiment_negative=_percent(c["sentiment_negative"], scored),
        sentiment_neutral=_percent(neutral, scored),
        sentiment_positive=_percent(c["sentiment_positive"], scored),
    )


def response_rate(*, sent: int, answered: int) -> float | None:
    """Invitations answered out of those sent, in percent."""
    return _percent(answered, sent)


def choice_shares(*, counts: Mapping[int, int], answers: int) -> dict[int, float | None]:
    """Each choice's share of the question's answers, in percent (a multiple-choice answer
    counts once for every choice it ticks, so the shares may add up past 100)."""
    return {choice: _percent(n, answers) for choice, n in counts.items()}
