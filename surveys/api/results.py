"""GET /api/v1/<org>/surveys/<id>/results/: a survey's results, the figures of its staff
results page (surveys.views.results), for dashboards and BI tools.

The headline figures, the breakdowns by language, channel and store and a poll's split come
from the same selectors the page renders (survey_results, poll_results), so the two never
disagree. The organisation's minimum group size k is applied where the page applies it: a
store with fewer than k responses, and the split of a question fewer than k people answered
(the page's poll rule, here for every question), are listed with their figures null and
`suppressed: true` — the page leaves them out, so nobody among a known few is singled out.
Counts the page shows whatever their size (responses, NPS, by language and channel) are
shown here too.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response as DRFResponse

from communities.api.auth import ApiTokenAuthentication
from communities.models import Organisation
from communities.permissions import can_read_results
from communities.scoping import OrganisationScopedAPIView
from surveys.choices import CHOICE_TYPES, NUMBER_TYPES, ChannelKind, QuestionType, SurveyKind
from surveys.models import Answer, Question, Response, Survey
from surveys.selectors import survey_results

# --- shapes ------------------------------------------------------------------------------


class ResultsSurveySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="In the caller's language, else the survey's.")
    kind = serializers.ChoiceField(choices=SurveyKind.choices)


class NpsResultSerializer(serializers.Serializer):
    score = serializers.FloatField(
        allow_null=True,
        help_text="Promoters minus detractors, in percent of NPS answers (−100 to 100), to "
        "one decimal; null with no NPS answer.",
    )
    responses = serializers.IntegerField(help_text="NPS answers counted.")
    promoters = serializers.IntegerField(help_text="Answers of 9 or 10.")
    passives = serializers.IntegerField(help_text="Answers of 7 or 8.")
    detractors = serializers.IntegerField(help_text="Answers of 0 to 6.")


class LanguageResultSerializer(serializers.Serializer):
    language = serializers.CharField(help_text="The language the response was given in.")
    responses = serializers.IntegerField()


class ChannelResultSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=ChannelKind.choices,
        allow_null=True,
        help_text="null: the survey's public link, with no channel of its own.",
    )
    label = serializers.CharField(help_text="The channel in the caller's language.")
    responses = serializers.IntegerField()


class StoreResultSerializer(serializers.Serializer):
    store = serializers.CharField(help_text="The store's name.")
    channel = serializers.ChoiceField(choices=ChannelKind.choices, allow_null=True)
    responses = serializers.IntegerField(
        allow_null=True, help_text="null when suppressed (fewer than min_group_size)."
    )
    nps = serializers.IntegerField(
        allow_null=True,
        help_text="The store's NPS, rounded; null with no NPS answer or when suppressed.",
    )
    suppressed = serializers.BooleanField(
        help_text="Fewer than min_group_size responses: the figures are withheld."
    )


class DistributionCellSerializer(serializers.Serializer):
    value = serializers.IntegerField(
        allow_null=True, help_text="The score (number questions); null for a choice."
    )
    choice_id = serializers.IntegerField(
        allow_null=True, help_text="The choice (choice questions); null for a score."
    )
    label = serializers.CharField(help_text="In the caller's language.")
    count = serializers.IntegerField(allow_null=True, help_text="null when suppressed.")
    percent = serializers.IntegerField(
        allow_null=True,
        help_text="Of the question's answers, rounded (several choices of one answer each "
        "count); null when suppressed.",
    )


class QuestionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    type = serializers.ChoiceField(choices=QuestionType.choices)
    text = serializers.CharField(help_text="In the caller's language, else the survey's.")
    answers = serializers.IntegerField(help_text="How many responses answered it.")
    suppressed = serializers.BooleanField(
        help_text="Fewer than min_group_size answers: the split is withheld (counts null)."
    )
    distribution = DistributionCellSerializer(
        many=True,
        help_text="Every score of the scale or every choice, in order; empty for text.",
    )


class SurveyResultsOutputSerializer(serializers.Serializer):
    survey = ResultsSurveySerializer()
    min_group_size = serializers.IntegerField(
        help_text="The organisation's minimum group size: smaller groups are suppressed."
    )
    responses = serializers.IntegerField()
    pooled = serializers.IntegerField(
        help_text="Anonymous answers waiting to be released in a batch; not counted yet."
    )
    pool_batch = serializers.IntegerField(help_text="The size of the batches they are released in.")
    nps = NpsResultSerializer()
    stars = serializers.FloatField(
        allow_null=True, help_text="The mean of star answers, to two decimals."
    )
    sentiment = serializers.FloatField(
        allow_null=True, help_text="The mean sentiment of text answers, to two decimals."
    )
    cases_open = serializers.IntegerField(help_text="Follow-up cases not resolved yet.")
    by_language = LanguageResultSerializer(many=True)
    by_channel = ChannelResultSerializer(many=True)
    by_store = StoreResultSerializer(many=True)
    questions = QuestionResultSerializer(many=True)


# --- figures -----------------------------------------------------------------------------


def _stores(*, results: dict, responses: QuerySet[Response], minimum: int) -> list[dict]:
    """The page's store rows (those of at least k responses), then the stores it leaves
    out, named with their figures withheld."""
    shown = [
        {
            "store": row["location__name"],
            "channel": row["channel__kind"],
            "responses": row["n"],
            "nps": row["nps"],
            "suppressed": False,
        }
        for row in results["by_location"]
    ]
    listed = {(row["store"], row["channel"]) for row in shown}
    groups = (
        responses.filter(location__isnull=False)
        .values("location__name", "channel__kind")
        .annotate(n=Count("pk"))
        .order_by("location__name", "channel__kind")
    )
    withheld = [
        {
            "store": row["location__name"],
            "channel": row["channel__kind"],
            "responses": None,
            "nps": None,
            "suppressed": True,
        }
        for row in groups
        if row["n"] < minimum and (row["location__name"], row["channel__kind"]) not in listed
    ]
    return shown + withheld


def _options(question: Question) -> list[tuple[int | None, int | None, str]]:
    """A question's cells in the order the page draws a poll's bars: (value, choice id,
    label) for each choice, or for each score of the scale (yes before no)."""
    if question.type in CHOICE_TYPES:
        return [(None, choice.pk, choice.label_for()) for choice in question.choices.all()]
    if question.type == QuestionType.YES_NO:
        return [(1, None, _("Yes")), (0, None, _("No"))]
    if question.type in NUMBER_TYPES and question.bounds:
        low, high = question.bounds
        return [(n, None, str(n)) for n in range(low, high + 1)]
    return []


def _questions(*, organisation: Organisation, survey: Survey, minimum: int) -> list[dict]:
    """Each shown question's answers and split, in four queries whatever the survey's size."""
    questions = list(
        survey.questions.filter(hidden=False).prefetch_related("choices").order_by("position")
    )
    answers = Answer.objects.for_organisation(organisation).filter(response__survey=survey)
    totals = dict(answers.values_list("question_id").annotate(n=Count("pk")).order_by())
    by_number: dict[int, dict[int, int]] = defaultdict(dict)
    numbered = answers.filter(number__isnull=False).values_list("question_id", "number")
    for question_id, number, n in numbered.annotate(n=Count("pk")).order_by():
        by_number[question_id][number] = n
    by_choice: dict[int, dict[int, int]] = defaultdict(dict)
    chosen = Answer.choices.through.objects.filter(
        answer__organisation=organisation, answer__response__survey=survey
    ).values_list("answer__question_id", "choice_id")
    for question_id, choice_id, n in chosen.annotate(n=Count("answer_id")).order_by():
        by_choice[question_id][choice_id] = n
    rows = []
    for question in questions:
        total = totals.get(question.pk, 0)
        suppressed = total < minimum
        cells = []
        for value, choice_id, label in _options(question):
            count = (
                by_choice[question.pk].get(choice_id, 0)
                if choice_id is not None
                else by_number[question.pk].get(value, 0)
            )
            cells.append(
                {
                    "value": value,
                    "choice_id": choice_id,
                    "label": label,
                    "count": None if suppressed else count,
                    "percent": None if suppressed else (round(100 * count / total) if total else 0),
                }
            )
        rows.append(
            {
                "id": question.pk,
                "position": question.position,
                "type": question.type,
                "text": question.text_for(),
                "answers": total,
                "suppressed": suppressed,
                "distribution": cells,
            }
        )
    return rows


def survey_results_api(*, organisation: Organisation, survey: Survey) -> dict[str, Any]:
    """The results page's figures as the API answers them (see the module docstring)."""
    results = survey_results(organisation=organisation, survey=survey)
    minimum = results["min_group_size"]
    nps = results["nps"]
    responses = Response.objects.for_organisation(organisation).filter(survey=survey)
    return {
        "survey": {"id": survey.pk, "title": survey.title_text, "kind": survey.kind},
        "min_group_size": minimum,
        "responses": results["responses"],
        "pooled": results["pooled"],
        "pool_batch": results["pool_batch"],
        "nps": {
            "score": nps.score,
            "responses": nps.responses,
            "promoters": nps.promoters,
            "passives": nps.passives,
            "detractors": nps.detractors,
        },
        "stars": results["stars"],
        "sentiment": results["sentiment"],
        "cases_open": results["cases_open"],
        "by_language": [
            {"language": row["language"], "responses": row["n"]} for row in results["by_language"]
        ],
        "by_channel": [
            {"channel": row["channel__kind"], "label": str(row["label"]), "responses": row["n"]}
            for row in results["by_channel"]
        ],
        "by_store": _stores(results=results, responses=responses, minimum=minimum),
        "questions": _questions(organisation=organisation, survey=survey, minimum=minimum),
    }


# --- the view ----------------------------------------------------------------------------


class SurveyResultsAPI(OrganisationScopedAPIView, generics.RetrieveAPIView):
    """Owners, admins and analysts (as the staff results page), or an API key with the
    "results" scopes."""

    api_area = "results"
    model = Survey
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # initial() authenticates and checks the role itself, for keys and sessions alike.
    permission_classes: list = []
    permission = staticmethod(can_read_results)
    serializer_class = SurveyResultsOutputSerializer

    @extend_schema(
        summary="A survey's results",
        description=(
            "The figures of the survey's staff results page: responses, NPS, the mean of "
            "star answers and of sentiment, open cases, responses by language, channel and "
            "store, and every question's split. Groups smaller than the organisation's "
            "minimum group size (a store, or a question's split) are listed with their "
            "figures null and `suppressed: true`. Anonymous answers still waiting in the "
            "pool are not counted (see `pooled`). Labels and texts are in the caller's "
            "language (Accept-Language)."
        ),
        responses={200: SurveyResultsOutputSerializer},
    )
    def get(self, request, *args, **kwargs) -> DRFResponse:
        figures = survey_results_api(organisation=self.organisation, survey=self.get_object())
        return DRFResponse(SurveyResultsOutputSerializer(figures).data)
