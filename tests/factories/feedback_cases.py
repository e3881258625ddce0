"""Factories of the case workflow's models: root causes, SLA policies, business hours and
recovery checks."""

import datetime as dt

import factory

from feedback.choices import CasePriority
from feedback.models import BusinessHours, RecoveryCheck, RootCause, SlaPolicy
from tests.factories.communities import OrganisationFactory


class RootCauseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RootCause

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Root cause {n}")


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy
        django_get_or_create = ("organisation", "priority")

    organisation = factory.SubFactory(OrganisationFactory)
    priority = CasePriority.NORMAL
    first_response_minutes = 60
    resolution_minutes = 480


class BusinessHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessHours
        django_get_or_create = ("organisation",)

    organisation = factory.SubFactory(OrganisationFactory)
    days = factory.LazyFunction(lambda: [1, 2, 3, 4, 5])
    opens = dt.time(9, 0)
    closes = dt.time(17, 0)


class RecoveryCheckFactory(factory.django.DjangoModelFactory):
    """A "Did we fix it?" question sent on a case, not yet answered."""

    class Meta:
        model = RecoveryCheck

    case = factory.SubFactory("tests.factories.feedback.CaseFactory")
    organisation = factory.SelfAttribute("case.organisation")
