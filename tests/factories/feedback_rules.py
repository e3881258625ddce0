"""Factories of the follow-up rules area (FollowUpRuleFactory itself is in
tests/factories/feedback.py, where older tests import it from)."""

import factory
from django.utils import timezone

from feedback.choices import RuleAlert
from feedback.models import RuleAlertIntent
from tests.factories.feedback import FollowUpRuleFactory
from tests.factories.surveys import ResponseFactory


class RuleAlertIntentFactory(factory.django.DjangoModelFactory):
    """A digest alert a rule left for a response of its own organisation."""

    class Meta:
        model = RuleAlertIntent

    response = factory.SubFactory(ResponseFactory)
    organisation = factory.SelfAttribute("response.organisation")
    rule = factory.SubFactory(
        FollowUpRuleFactory, organisation=factory.SelfAttribute("..organisation")
    )
    mode = RuleAlert.DIGEST
    created_at = factory.LazyFunction(timezone.now)
