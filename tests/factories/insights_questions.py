"""A survey with a question of every kind answered over nine weeks, three stores, every
channel and four languages, for the per-question roll-up tests
(tests/insights/test_results_reader_equal.py): the answers follow fixed rules from the
response's index, so the data is the same on every run and every database."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from insights.models import RollupAnswer
from surveys.choices import ChannelKind, QuestionType
from surveys.models import Survey
from tests.factories.communities import LocationFactory
from tests.factories.surveys import (
    AnswerFactory,
    ChannelFactory,
    ChoiceFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

FIRST_DAY = dt.date(2025, 1, 27)  # a Monday; 63 days are nine whole weeks
LANGUAGES = ("en", "th", "he", "ja")
STORES = ("Siam", "Silom", "Ari")
KINDS = (ChannelKind.KIOSK, ChannelKind.EMAIL, ChannelKind.API, None)  # None: public link
TYPES = (
    QuestionType.NPS,
    QuestionType.CSAT,
    QuestionType.STAR,
    QuestionType.RATING,
    QuestionType.YES_NO,
    QuestionType.SINGLE_CHOICE,
    QuestionType.MULTI_CHOICE,
    QuestionType.TEXT,
)


class RollupAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RollupAnswer

    survey = factory.SubFactory(SurveyFactory)
    organisation = factory.SelfAttribute("survey.organisation")
    question = factory.SubFactory(QuestionFactory, survey=factory.SelfAttribute("..survey"))
    submitted_on = factory.LazyFunction(dt.date.today)
    language = "en"
    count = 1


def results_survey(*, organisation, community) -> Survey:
    """A live survey with one question of each kind (choices: Coffee, Cake, Wi-Fi)."""
    survey = SurveyFactory(organisation=organisation, community=community)
    for position, kind in enumerate(TYPES, start=1):
        question = QuestionFactory(
            survey=survey,
            position=position,
            type=kind,
            text={"en": f"Question {position}"},
            settings={"min": 1, "max": 7} if kind == QuestionType.RATING else {},
        )
        if kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE):
            for place, label in enumerate(("Coffee", "Cake", "Wi-Fi"), start=1):
                ChoiceFactory(question=question, position=place, label={"en": label})
    return survey


def results_answer(survey: Survey, index: int, *, first_day: dt.date = FIRST_DAY) -> None:
    """The index-th response to `survey`, with its answers (some questions skipped)."""
    stores = {
        location.name: location
        for location in survey.organisation.locations.filter(name__in=STORES)
    }
    missing = [name for name in STORES if name not in stores]
    for name in missing:
        stores[name] = LocationFactory(organisation=survey.organisation, name=name)
    store = stores[STORES[index % 3]] if index % 7 else None
    kind = KINDS[(index // 2) % 4]
    channel = None
    if kind is not None:
        channel = survey.channels.filter(kind=kind, location=store).first() or ChannelFactory(
            survey=survey,
            kind=kind,
            location=store,
            device_token=f"kiosk-{survey.pk}-{index}" if kind == ChannelKind.KIOSK else None,
        )
    day = first_day + dt.timedelta(days=(index * 5) % 63)
    response = ResponseFactory(
        survey=survey,
        channel=channel,
        location=store,
        language=LANGUAGES[(index * 3) % 4] if index % 5 else "en",
        submitted_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
        submitted_on=day,
    )
    questions = {q.type: q for q in survey.questions.prefetch_related("choices")}
    numbers = {
        QuestionType.NPS: (index * 7) % 11,
        QuestionType.CSAT: None if index % 4 == 3 else 1 + (index * 3) % 5,
        QuestionType.STAR: 1 + (index * 2) % 5 if index % 6 else None,
        QuestionType.RATING: 1 + index % 7 if index % 3 else None,
        QuestionType.YES_NO: index % 2 if index % 8 else None,
    }
    for kind, number in numbers.items():
        if number is not None:
            AnswerFactory(response=response, question=questions[kind], number=number)
    choices = list(questions[QuestionType.SINGLE_CHOICE].choices.order_by("position"))
    if index % 9:
        single = AnswerFactory(
            response=response, question=questions[QuestionType.SINGLE_CHOICE], number=None
        )
        single.choices.set([choices[index % 3]])
    ticks = list(questions[QuestionType.MULTI_CHOICE].choices.order_by("position"))
    picked = [choice for place, choice in enumerate(ticks) if (index >> place) & 1]
    if picked or index % 10 == 0:
        multi = AnswerFactory(
            response=response, question=questions[QuestionType.MULTI_CHOICE], number=None
        )
        multi.choices.set(picked)
    if index % 2:
        AnswerFactory(
            response=response,
            question=questions[QuestionType.TEXT],
            number=None,
            text=f"Comment {index}",
            sentiment=((index * 37) % 21 - 10) / 10 if index % 3 else None,
        )


def results_world(*, organisation, community, responses: int = 60) -> Survey:
    """`results_survey` with `responses` answered responses."""
    survey = results_survey(organisation=organisation, community=community)
    for index in range(responses):
        results_answer(survey, index)
    return survey
