import factory

from feedback.choices import Condition
from feedback.models import Case, FollowUpRule, OutboundEmail
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
    reason = "NPS 3 ≤ 6"


class OutboundEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundEmail

    organisation = factory.SubFactory(OrganisationFactory)
    to_email = factory.Sequence(lambda n: f"recipient{n}@example.com")
    template = "followup"
    subject = "Hello"
    body_text = "Hello there"
    idempotency_key = factory.Sequence(lambda n: f"test-email-{n}")
