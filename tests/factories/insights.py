import datetime as dt

import factory

from insights.models import RollupBucket, RollupMonth, RollupState
from tests.factories.surveys import SurveyFactory


class RollupBucketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RollupBucket

    survey = factory.SubFactory(SurveyFactory)
    organisation = factory.SelfAttribute("survey.organisation")
    submitted_on = factory.LazyFunction(dt.date.today)
    language = "en"
    responses = 1


class RollupMonthFactory(RollupBucketFactory):
    class Meta:
        model = RollupMonth

    submitted_on = factory.LazyFunction(lambda: dt.date.today().replace(day=1))


class RollupStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RollupState
        django_get_or_create = ("id",)

    id = 1
