import factory

from insights.models import NotificationPreference, ReportSchedule, ThresholdAlert
from tests.factories.communities import LocationFactory, OrganisationFactory, UserFactory


class NotificationPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationPreference

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)


class ThresholdAlertFactory(factory.django.DjangoModelFactory):
    """ "More than 3 negative answers in an hour" at a store of the organisation."""

    class Meta:
        model = ThresholdAlert
        skip_postgeneration_save = True

    location = factory.SubFactory(LocationFactory)
    organisation = factory.SelfAttribute("location.organisation")
    threshold = 3
    window_minutes = 60

    @factory.post_generation
    def recipients(self, create, extracted, **kwargs):
        if create and extracted:
            self.recipients.set(extracted)


class ReportScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportSchedule
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    weekday = 0
    hour = 8

    @factory.post_generation
    def recipients(self, create, extracted, **kwargs):
        if create and extracted:
            self.recipients.set(extracted)


def answered(*, survey, location, count: int, nps: int, text: str, at, anonymous=False) -> list:
    """`count` responses at the store, each with an NPS answer and a text answer, as given
    (the survey's first NPS and text questions, made when it has none)."""
    from surveys.choices import QuestionType
    from tests.factories.surveys import AnswerFactory, QuestionFactory, ResponseFactory

    def question(kind):
        found = survey.questions.filter(type=kind).first()
        return found or QuestionFactory(survey=survey, type=kind)

    nps_question, text_question = question(QuestionType.NPS), question(QuestionType.TEXT)
    responses = []
    for _n in range(count):
        response = ResponseFactory(
            survey=survey,
            location=location,
            submitted_at=at,
            submitted_on=at.date(),
            is_anonymous=anonymous,
        )
        AnswerFactory(response=response, question=nps_question, number=nps)
        AnswerFactory(response=response, question=text_question, number=None, text=text)
        responses.append(response)
    return responses
