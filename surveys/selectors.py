from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet

from communities.models import Organisation
from surveys.choices import QuestionType
from surveys.models import Answer, Response, Survey


@dataclass(frozen=True)
class NpsSummary:
    responses: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> float | None:
        if not self.responses:
            return None
        return round(100 * (self.promoters - self.detractors) / self.responses, 1)


def survey_list(*, organisation: Organisation) -> QuerySet[Survey]:
    return (
        Survey.objects.for_organisation(organisation)
        .annotate(response_count=Count("responses"))
        .order_by("-created_at")
    )


def survey_nps(*, organisation: Organisation, survey: Survey) -> NpsSummary:
    """NPS over the survey's NPS answers, by the 0–6 / 7–8 / 9–10 split."""
    row = (
        Answer.objects.for_organisation(organisation)
        .filter(response__survey=survey, question_type=QuestionType.NPS, number__isnull=False)
        .aggregate(
            responses=Count("pk"),
            promoters=Count("pk", filter=Q(number__gte=9)),
            passives=Count("pk", filter=Q(number__in=(7, 8))),
            detractors=Count("pk", filter=Q(number__lte=6)),
        )
    )
    return NpsSummary(**row)


def survey_results(*, organisation: Organisation, survey: Survey) -> dict:
    """The headline numbers for one survey: responses, NPS, stars, sentiment, cases."""
    answers = Answer.objects.for_organisation(organisation).filter(response__survey=survey)
    stars = answers.filter(question_type=QuestionType.STAR).aggregate(avg=Avg("number"))["avg"]
    sentiment = answers.filter(sentiment__isnull=False).aggregate(avg=Avg("sentiment"))["avg"]
    responses = Response.objects.for_organisation(organisation).filter(survey=survey)
    by_language = list(responses.values("language").annotate(n=Count("pk")).order_by("-n"))
    return {
        "responses": responses.count(),
        "nps": survey_nps(organisation=organisation, survey=survey),
        "stars": round(stars, 2) if stars is not None else None,
        "sentiment": round(sentiment, 2) if sentiment is not None else None,
        "by_language": by_language,
        "cases_open": survey.responses.filter(case__isnull=False)
        .exclude(case__status="resolved")
        .count(),
    }
