from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet
from django.utils.translation import gettext as _

from communities.models import Organisation
from surveys.choices import QuestionType
from surveys.models import Answer, Question, Response, Survey


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


def survey_builder_questions(*, survey: Survey) -> list[Question]:
    """Every question of a survey, hidden ones too, with choices and answer counts."""
    return list(
        survey.questions.prefetch_related("choices").annotate(answer_count=Count("answers"))
    )


def survey_translation_gaps(*, survey: Survey) -> dict[str, list[str]]:
    """Per survey language, the texts still missing in it (named for the author)."""
    gaps: dict[str, list[str]] = {code: [] for code in survey.languages}
    questions = list(survey.questions.filter(hidden=False).prefetch_related("choices"))
    for code in survey.languages:
        missing = gaps[code]
        if not survey.title.get(code):
            missing.append(str(_("the title")))
        if survey.thank_you and not survey.thank_you.get(code):
            missing.append(str(_("the thank-you text")))
        for question in questions:
            name = _("question %(n)s") % {"n": question.position}
            if not question.text.get(code):
                missing.append(str(name))
            for choice in question.choices.all():
                if not choice.label.get(code):
                    missing.append(
                        str(
                            _("%(question)s, answer “%(choice)s”")
                            % {"question": name, "choice": choice.label_for()}
                        )
                    )
            for end in ("min_label", "max_label"):
                labels = question.settings.get(end)
                if labels and not labels.get(code):
                    missing.append(str(_("%(question)s, scale labels") % {"question": name}))
                    break
    return gaps
