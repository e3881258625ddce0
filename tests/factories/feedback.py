import factory

from feedback.choices import CaseEventKind, Condition
from feedback.models import Case, CaseEvent, FollowUpRule, Team
from tests.factories.communities import OrganisationFactory
from tests.factories.surveys import ResponseFactory


class FollowUpRuleFactory(factory.django.DjangoModelFactory):
    """A rule; written in the first release's words (condition, threshold, choice, survey
    and the on/off actions) unless conditions and actions are given in today's shape."""

    class Meta:
        model = FollowUpRule

    class Params:
        condition = Condition.NPS_AT_MOST
        threshold = 6
        choice = None
        survey = None
        email_respondent = True
        alert_staff = False
        open_case = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    match = factory.LazyAttribute(lambda o: _legacy(o).match)
    conditions = factory.LazyAttribute(lambda o: list(_legacy(o).conditions))
    actions = factory.LazyAttribute(lambda o: _legacy(o).actions)
    scope = factory.LazyAttribute(lambda o: {"surveys": [o.survey.pk]} if o.survey else {})


def _legacy(o):
    from feedback.services.followup_eval import legacy_compile

    return legacy_compile(
        condition=o.condition,
        threshold=o.threshold,
        choice_id=o.choice.pk if o.choice is not None else None,
        email_respondent=o.email_respondent,
        alert_staff=o.alert_staff,
        open_case=o.open_case,
    )


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
