import uuid
from datetime import timedelta
from pathlib import Path

import factory
from django.conf import settings
from django.utils import timezone

from surveys.choices import Anonymity, ChannelKind, QuestionType, SurveyStatus
from surveys.models import (
    Answer,
    Channel,
    Choice,
    ExportFormat,
    ExportJob,
    ExportStatus,
    InvitationBatch,
    Participation,
    PooledAnswer,
    Question,
    Response,
    Survey,
    SurveyEvent,
    SurveyInvitation,
)
from surveys.services.writing import organisation_day
from tests.factories.communities import MemberFactory, OrganisationFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    organisation = factory.SubFactory(OrganisationFactory)
    title = factory.Sequence(
        lambda n: {
            "en": f"Survey {n}",
            "th": f"แบบสำรวจ {n}",
            "he": f"סקר {n}",
            "ja": f"アンケート {n}",
        }
    )
    status = SurveyStatus.LIVE
    anonymity = Anonymity.IDENTIFIED
    points = 10
    languages = factory.LazyFunction(lambda: ["en", "th", "he", "ja"])


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    organisation = factory.SelfAttribute("survey.organisation")
    position = factory.Sequence(lambda n: n + 1)
    type = QuestionType.NPS
    text = factory.LazyAttribute(lambda q: {"en": f"Question about {q.type}?"})
    required = True


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory, type=QuestionType.SINGLE_CHOICE)
    organisation = factory.SelfAttribute("question.organisation")
    position = factory.Sequence(lambda n: n + 1)
    label = factory.Sequence(lambda n: {"en": f"Option {n}"})


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    survey = factory.SubFactory(SurveyFactory)
    organisation = factory.SelfAttribute("survey.organisation")
    kind = ChannelKind.LINK


class SurveyInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyInvitation

    survey = factory.SubFactory(SurveyFactory)
    organisation = factory.SelfAttribute("survey.organisation")
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")


class InvitationBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvitationBatch

    survey = factory.SubFactory(SurveyFactory)
    organisation = factory.SelfAttribute("survey.organisation")
    recipients = factory.LazyFunction(lambda: [["guest@example.com", "Guest"]])


class SurveyEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyEvent

    organisation = factory.SubFactory(OrganisationFactory)
    kind = "ticket_closed"
    external_ref = factory.Sequence(lambda n: f"TICKET-{n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    survey = factory.SubFactory(SurveyFactory)
    organisation = factory.SelfAttribute("survey.organisation")
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)
    language = "en"
    submitted_at = factory.LazyFunction(timezone.now)
    # The organisation's day, as the submit path stores it.
    submitted_on = factory.LazyAttribute(
        lambda r: organisation_day(organisation=r.organisation, at=r.submitted_at)
    )


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer

    response = factory.SubFactory(ResponseFactory)
    organisation = factory.SelfAttribute("response.organisation")
    question = factory.SubFactory(
        QuestionFactory, survey=factory.SelfAttribute("..response.survey")
    )
    question_type = factory.SelfAttribute("question.type")
    number = 9


class ParticipationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participation

    survey = factory.SubFactory(SurveyFactory)
    organisation = factory.SelfAttribute("survey.organisation")
    member = factory.SubFactory(
        MemberFactory, community__organisation=factory.SelfAttribute("...survey.organisation")
    )


def survey_with_every_question_type(**kwargs) -> Survey:
    """A live survey with NPS, star, single-choice, multi-choice and text questions."""
    survey = SurveyFactory(**kwargs)
    texts = {
        QuestionType.NPS: {
            "en": "How likely are you to recommend us?",
            "th": "คุณจะแนะนำเราให้เพื่อนไหม",
            "he": "האם תמליצו עלינו?",
            "ja": "友人に勧めますか？",
        },
        QuestionType.STAR: {
            "en": "Rate your visit",
            "th": "ให้คะแนนการมาเยือน",
            "he": "דרגו את הביקור",
            "ja": "ご来店の評価",
        },
        QuestionType.SINGLE_CHOICE: {
            "en": "Why did you come?",
            "th": "ทำไมคุณมา",
            "he": "למה באתם?",
            "ja": "ご来店の理由",
        },
        QuestionType.MULTI_CHOICE: {
            "en": "What did you like?",
            "th": "คุณชอบอะไร",
            "he": "מה אהבתם?",
            "ja": "良かった点",
        },
        QuestionType.TEXT: {
            "en": "Anything else?",
            "th": "มีอะไรอีกไหม",
            "he": "עוד משהו?",
            "ja": "その他",
        },
    }
    for position, (qtype, text) in enumerate(texts.items(), start=1):
        question = QuestionFactory(
            survey=survey,
            position=position,
            type=qtype,
            text=text,
            required=qtype in (QuestionType.NPS, QuestionType.STAR),
        )
        if qtype in (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE):
            for cpos, label in enumerate(("Coffee", "Cake", "Wi-Fi"), start=1):
                ChoiceFactory(
                    question=question,
                    position=cpos,
                    label={
                        "en": label,
                        "th": f"{label} TH",
                        "he": f"{label} HE",
                        "ja": f"{label} JA",
                    },
                )
    return survey


class PooledAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PooledAnswer

    survey = factory.SubFactory(SurveyFactory, anonymity=Anonymity.ANONYMOUS)
    organisation = factory.SelfAttribute("survey.organisation")
    answers = factory.LazyFunction(dict)
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)


def pool_release_now(survey) -> int:
    """Release a survey's anonymous pool at once, however few wait in it, with its points.

    Sets the organisation's longest wait to zero days: the tests' stand-in for the k-th
    answer arriving or the survey closing. Returns how many answers were released.
    """
    from surveys.services.pool import anonymous_points_release, anonymous_pool_release

    organisation = survey.organisation
    organisation.anonymous_pool_max_days = 0
    organisation.save(update_fields=["anonymous_pool_max_days"])
    released = anonymous_pool_release(survey_id=survey.pk)
    anonymous_points_release(survey_id=survey.pk)
    return released


class ExportJobFactory(factory.django.DjangoModelFactory):
    """A queued export; `ready=True` makes it a finished CSV with a small file written under
    MEDIA_ROOT/exports/ (named after the job, so test runs overwrite rather than add)."""

    class Meta:
        model = ExportJob
        skip_postgeneration_save = True

    class Params:
        ready = factory.Trait(
            status=ExportStatus.DONE,
            finished_at=factory.LazyFunction(timezone.now),
            expires_at=factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24)),
            file_path="pending",
        )

    survey = factory.SubFactory(SurveyFactory)
    organisation = factory.SelfAttribute("survey.organisation")
    format = ExportFormat.CSV
    params = factory.LazyFunction(lambda: {"labels": "en"})

    @factory.post_generation
    def file(job, create, extracted, **kwargs):
        if job.file_path != "pending":
            return
        job.file_path = f"exports/{job.organisation_id}/factory-{job.pk}.{job.format}"
        path = Path(settings.MEDIA_ROOT) / job.file_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\ufeffResponse\r\n", encoding="utf-8")
        if create:
            job.save(update_fields=["file_path"])
