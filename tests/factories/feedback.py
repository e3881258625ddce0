import factory

from feedback.choices import CaseEventKind, Condition
from feedback.models import Case, CaseEvent, FollowUpRule, Team
from tests.factories.communities import OrganisationFactory
from tests.factories.surveys import ResponseFactory


class FollowUpRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpRule

    organisation = factory.SubFactory(OrganisationFactory)
    condition = Condition.NPS_AT_MOST
    threshold = 6


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    response = factory.SubFactory(ResponseFactory)
    organisation = factory.SelfAttribute("response.organisation")
    reasons = factory.LazyFunction(
        lambda: [{"code": "nps", "question": None, "value": 3, "threshold": 6}]
    )


class CaseEventFactory(factory.django.DjangoModelFactory):
    """A note on a case's timeline, unless told otherwise."""

    class Meta:
        model = CaseEvent

    case = factory.SubFactory(CaseFactory)
    organisation = factory.SelfAttribute("case.organisation")
    kind = CaseEventKind.NOTE
    data = factory.LazyFunction(lambda: {"body": "Called the customer."})


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
