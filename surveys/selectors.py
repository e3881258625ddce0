from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from communities.models import Location, Member, Organisation
from surveys.choices import CHOICE_TYPES, ChannelKind, QuestionType, SurveyKind, SurveyStatus
from surveys.lookups import member_took_part
from surveys.models import (
    Answer,
    Channel,
    PooledAnswer,
    Question,
    Response,
    Survey,
)

# The results page's reads live in their own module; re-exported as the app's selectors.
from surveys.selectors_results import (  # noqa: F401
    QuestionSplit,
    SurveyResults,
    survey_results,
)


def survey_list(*, organisation: Organisation) -> QuerySet[Survey]:
    return (
        Survey.objects.for_organisation(organisation)
        .annotate(response_count=Count("responses"))
        .order_by("-created_at")
    )


def survey_builder_questions(*, survey: Survey) -> list[Question]:
    """Every question of a survey, hidden ones too, with choices and answer counts."""
    return list(
        survey.questions.prefetch_related("choices")
        .annotate(answer_count=Count("answers"))
        # A GROUP BY query drops the model's default ordering.
        .order_by("position")
    )


@dataclass(frozen=True)
class GapPart:
    """One text of a gap, and the survey languages it is missing in."""

    # What the text is, in words ("answer “Yes”"); empty for the subject's own text.
    what: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class TranslationGap:
    """Something an author must still translate (the title, a question), named once."""

    subject: str
    parts: tuple[GapPart, ...]

    @property
    def languages(self) -> list[str]:
        """Every language something of it is missing in, in the survey's order."""
        seen: list[str] = []
        for part in self.parts:
            seen += [code for code in part.languages if code not in seen]
        return seen

    @property
    def text(self) -> str:
        """The gap in words, naming the languages: "question 2: its wording (ไทย), …"."""
        return self._words([(part.what, _language_names(part.languages)) for part in self.parts])

    def missing_in(self, language: str) -> str | None:
        """What of it is missing in one language, in words; None when nothing is."""
        parts = [part for part in self.parts if language in part.languages]
        return self._words([(part.what, "") for part in parts]) if parts else None

    def _words(self, parts: list[tuple[str, str]]) -> str:
        def named(what: str, languages: str) -> str:
            if not languages:
                return what
            return _("%(what)s (%(languages)s)") % {"what": what, "languages": languages}

        if len(parts) == 1 and not parts[0][0]:
            # Only the subject's own text: "the title (ไทย)".
            return named(self.subject, parts[0][1])
        words = [named(what or _("its wording"), languages) for what, languages in parts]
        return _("%(subject)s: %(parts)s") % {"subject": self.subject, "parts": ", ".join(words)}


def _language_names(codes: tuple[str, ...]) -> str:
    return ", ".join(get_language_info(code)["name_local"] for code in codes)


def survey_translation_gaps(*, survey: Survey) -> list[TranslationGap]:
    """What is still untranslated, each once and in the order the survey shows it (title,
    thank-you text, then questions by position), with the languages it is missing in."""
    languages = list(survey.languages)

    def missing(texts: dict | None) -> tuple[str, ...]:
        return tuple(code for code in languages if not (texts or {}).get(code))

    gaps: list[TranslationGap] = []
    if codes := missing(survey.title):
        gaps.append(TranslationGap(str(_("the title")), (GapPart("", codes),)))
    # A thank-you text is optional: a gap only once it is written in some language.
    if survey.thank_you and (codes := missing(survey.thank_you)):
        gaps.append(TranslationGap(str(_("the thank-you text")), (GapPart("", codes),)))
    questions = survey.questions.filter(hidden=False).prefetch_related("choices")
    for question in questions.order_by("position"):
        parts: list[GapPart] = []
        if codes := missing(question.text):
            parts.append(GapPart("", codes))
        for choice in question.choices.all():
            if codes := missing(choice.label):
                what = _("answer “%(choice)s”") % {"choice": choice.label_for()}
                parts.append(GapPart(str(what), codes))
        scale = [question.settings.get(end) for end in ("min_label", "max_label")]
        scale_codes = {code for labels in scale if labels for code in missing(labels)}
        if scale_codes:
            codes = tuple(code for code in languages if code in scale_codes)
            parts.append(GapPart(str(_("scale labels")), codes))
        if parts:
            subject = _("question %(n)s") % {"n": question.position}
            gaps.append(TranslationGap(str(subject), tuple(parts)))
    return gaps


@dataclass(frozen=True)
class PollBar:
    label: str
    votes: int | None  # None, with percent, while fewer than k have voted
    percent: int | None


def poll_results(*, survey: Survey, language: str | None = None) -> tuple[list[PollBar], int]:
    """A poll's bars (every option, in order, with its share of votes) and the vote count;
    the bars carry no votes or shares while fewer than the organisation's k have voted."""
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
    if total < survey.organisation.min_group_size:
        # With fewer than k votes a voter could tell how the others voted (one vote besides
        # their own is one person's choice): the options are listed without the split.
        return [PollBar(label, None, None) for _value, label in options], total
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


def survey_answered_by(*, survey: Survey, member: Member | None, visitor_key: str = "") -> bool:
    """Whether this member, or the browser holding this answer key, has answered already.

    Read for the respondent themselves only: their own participation, or the answer stored
    under the key their own browser sent (a pooled anonymous answer included, until its
    release gives it a fresh key).
    """
    if member is not None:
        return member_took_part(survey_id=survey.pk, member_id=member.pk)
    if not visitor_key:
        return False
    return (
        Response.objects.filter(survey=survey, idempotency_key=visitor_key).exists()
        or PooledAnswer.objects.filter(survey=survey, idempotency_key=visitor_key).exists()
    )


def _answers_normalised(answers: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    normalised = {}
    for question_id, value in answers.items():
        kept = {
            "number": value.get("number"),
            "choice_ids": sorted(value.get("choice_ids") or []),
            "text": (value.get("text") or "").strip(),
        }
        normalised[int(question_id)] = {k: v for k, v in kept.items() if v not in (None, [], "")}
    return {k: v for k, v in normalised.items() if v}


def answers_stored_under_key(
    *, survey: Survey, idempotency_key: str, clean: dict[int, dict[str, Any]]
) -> bool:
    """Whether the answer already stored under this key is exactly `clean`: a resend of
    the same answers (a double tap), rather than a different, second answer."""
    response = (
        Response.objects.filter(survey=survey, idempotency_key=idempotency_key)
        .prefetch_related("answers__choices")
        .first()
    )
    if response is not None:
        stored = {
            answer.question_id: {
                "number": answer.number,
                "choice_ids": [choice.pk for choice in answer.choices.all()],
                "text": answer.text,
            }
            for answer in response.answers.all()
        }
    else:
        pooled = PooledAnswer.objects.filter(survey=survey, idempotency_key=idempotency_key).first()
        if pooled is None:
            return False
        stored = pooled.answers
    return _answers_normalised(stored) == _answers_normalised(clean)


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


def location_kiosks(*, organisation: Organisation, location: Location) -> list:
    """The store's kiosks with their surveys and answer counts: switched-on first, newest
    first."""
    return list(
        Channel.objects.for_organisation(organisation)
        .filter(kind=ChannelKind.KIOSK, location=location)
        .select_related("survey")
        .annotate(response_count=Count("responses"))
        .order_by("-active", "-created_at")
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
