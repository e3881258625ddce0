from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import Member, Organisation
from surveys.choices import CHOICE_TYPES, ChannelKind, QuestionType, SurveyKind, SurveyStatus
from surveys.models import Answer, PooledAnswer, Question, Response, Survey
from surveys.services.pool import POOL_MIN_BATCH


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
    # Below the organisation's minimum group size a store's row would single people out.
    minimum = organisation.min_group_size
    by_location = [
        row
        for row in responses.filter(location__isnull=False)
        .values("location__name", "channel__kind")
        .annotate(
            n=Count("pk", distinct=True),
            promoters=Count(
                "answers",
                filter=Q(answers__question_type=QuestionType.NPS, answers__number__gte=9),
            ),
            detractors=Count(
                "answers",
                filter=Q(answers__question_type=QuestionType.NPS, answers__number__lte=6),
            ),
            scored=Count("answers", filter=Q(answers__question_type=QuestionType.NPS)),
        )
        .order_by("-n")
        if row["n"] >= minimum
    ]
    for row in by_location:
        row["nps"] = (
            round(100 * (row["promoters"] - row["detractors"]) / row["scored"])
            if row["scored"]
            else None
        )
    by_channel = list(responses.values("channel__kind").annotate(n=Count("pk")).order_by("-n"))
    for row in by_channel:
        # Answers with no channel came through the public link.
        row["label"] = ChannelKind(row["channel__kind"] or ChannelKind.LINK).label
    return {
        "by_location": by_location,
        "by_channel": by_channel,
        "min_group_size": minimum,
        "responses": responses.count(),
        # A number only: which answers wait, and whose, is what the pool hides.
        "pooled": PooledAnswer.objects.for_organisation(organisation).filter(survey=survey).count(),
        "pool_batch": max(POOL_MIN_BATCH, organisation.min_group_size),
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
        survey.questions.prefetch_related("choices")
        .annotate(answer_count=Count("answers"))
        # A GROUP BY query drops the model's default ordering.
        .order_by("position")
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


@dataclass(frozen=True)
class PollBar:
    label: str
    votes: int
    percent: int


def poll_results(*, survey: Survey, language: str | None = None) -> tuple[list[PollBar], int]:
    """A poll's bars (every option, in order, with its share of votes) and the vote count."""
    question = survey.questions.filter(hidden=False).prefetch_related("choices").first()
    if question is None:
        return [], 0
    answers = Answer.objects.for_organisation(survey.organisation_id).filter(question=question)
    total = answers.count()
    if question.type in CHOICE_TYPES:
        counts = dict(
            answers.values_list("choices").annotate(n=Count("pk")).values_list("choices", "n")
        )
        options = [(c.pk, c.label_for(language)) for c in question.choices.all()]
    else:
        counts = dict(
            answers.values_list("number").annotate(n=Count("pk")).values_list("number", "n")
        )
        if question.type == QuestionType.YES_NO:
            options = [(1, str(_("Yes"))), (0, str(_("No")))]
        else:
            low, high = question.bounds
            options = [(n, str(n)) for n in range(low, high + 1)]
    bars = [
        PollBar(
            label, counts.get(value, 0), round(100 * counts.get(value, 0) / total) if total else 0
        )
        for value, label in options
    ]
    return bars, total


def poll_card(*, survey: Survey, form, voted: bool, language: str) -> dict:
    """What a poll shows: its one-tap buttons, or, once this person has voted, the results."""
    field_name = next((name for name in form.fields if name.startswith("q_")), None)
    card = {
        "survey": survey,
        "form": form,
        "voted": voted,
        "title": survey.title.get(language) or survey.title_text,
        "field": form[field_name] if field_name else None,
    }
    if voted:
        card["bars"], card["total"] = poll_results(survey=survey, language=language)
    return card


def community_open_surveys(*, community) -> tuple[list[Survey], list[Survey]]:
    """The community's surveys and polls taking answers now, newest first."""
    now = timezone.now()
    live = (
        Survey.objects.for_organisation(community.organisation_id)
        .filter(community=community, status=SurveyStatus.LIVE)
        .filter(Q(opens_at__isnull=True) | Q(opens_at__lte=now))
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))
        .select_related("organisation")
        .order_by("-created_at")
    )
    surveys, polls = [], []
    for survey in live:
        (polls if survey.kind == SurveyKind.POLL else surveys).append(survey)
    return surveys, polls


def survey_batches(*, survey: Survey) -> list:
    return list(survey.batches.select_related("community", "created_by")[:20])


def survey_kiosks(*, survey: Survey) -> list:
    return list(
        survey.channels.filter(kind=ChannelKind.KIOSK)
        .select_related("location")
        .annotate(response_count=Count("responses"))
        .order_by("-created_at")
    )


def batch_progress(*, batch) -> dict:
    """How far a send has got: invitations written, emails sent, opened, answered."""
    from communities.outbox.choices import EmailStatus
    from communities.outbox.models import OutboundEmail

    counts = batch.invitations.aggregate(
        written=Count("pk"),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        answered=Count("pk", filter=Q(responded_at__isnull=False)),
    )
    keys = [f"invitation:{pk}:0" for pk in batch.invitations.values_list("pk", flat=True)]
    emails = OutboundEmail.objects.filter(idempotency_key__in=keys).aggregate(
        sent=Count("pk", filter=Q(status=EmailStatus.SENT)),
        failed=Count("pk", filter=Q(status=EmailStatus.FAILED)),
    )
    return {**counts, **emails}


def member_responses(*, member: Member, email: str | None = None) -> QuerySet[Response]:
    """Every response that leads to the member: given signed in, or through a personal
    link sent to them or to their address (what erasure unlinks)."""
    email = member.email if email is None else email
    mine = Q(member=member) | Q(invitation__member=member)
    if email:
        mine |= Q(invitation__email__iexact=email)
    return Response.objects.filter(organisation_id=member.organisation_id).filter(mine)
