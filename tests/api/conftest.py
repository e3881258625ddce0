"""A whole organisation for the API fuzzer (tests/api/test_schemathesis.py) to call into.

The demo's seed (surveys with responses, a community with members, attributes and a
segment, rewards with redemptions and a year of points) plus what it lacks: a second
community, a draft survey with questions and choices to edit, cases, survey events, a
webhook endpoint with deliveries, and staff of every role. `fuzz_world` hands the fuzzer
the ids of all of it, so generated requests reach real objects instead of only 404s.

Other helpers may add fixtures in their own files (a conftest.py is shared by the
directory: put new ones beside the tests that use them, not here).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from django.core.management import call_command

from communities.choices import Role
from communities.models import (
    Community,
    Location,
    Member,
    Organisation,
    Segment,
    StaffRole,
)
from communities.webhooks.models import WebhookDelivery, WebhookEndpoint
from feedback.models import Case
from rewards.models import Redemption, Reward
from surveys.models import Choice, Question, Response, Survey, SurveyEvent
from surveys.services import question_add, survey_create
from tests.factories.communities import (
    CommunityFactory,
    MemberFactory,
    StaffRoleFactory,
    UserFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import SurveyEventFactory

FUZZ_ORGANISATION = "demo-coffee"  # the demo seed's organisation


@dataclass
class FuzzWorld:
    organisation: Organisation
    analyst_email: str
    # Dictionary name -> ids of real objects of the organisation.
    ids: dict[str, list[int]] = field(default_factory=dict)


def _ids(queryset) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:50])


@pytest.fixture
def fuzz_world() -> FuzzWorld:
    """The demo organisation, seeded as `make demo` seeds it, and then some."""
    call_command("seed_demo", responses=24, stdout=io.StringIO())
    organisation = Organisation.objects.get(slug=FUZZ_ORGANISATION)
    second = CommunityFactory(organisation=organisation, name="Night owls", slug="night-owls")
    MemberFactory.create_batch(3, community=second)
    analyst = UserFactory(email="analyst@demo-coffee.example")
    StaffRoleFactory(user=analyst, organisation=organisation, role=Role.ANALYST)
    StaffRoleFactory(
        user=UserFactory(email="agent@demo-coffee.example"),
        organisation=organisation,
        role=Role.AGENT,
    )
    draft = survey_create(
        organisation=organisation, title={"en": "Draft for the fuzzer"}, languages=["en", "th"]
    )
    question_add(survey=draft, type="nps", text={"en": "Recommend us?"})
    question_add(
        survey=draft,
        type="single_choice",
        text={"en": "Which shop?"},
        choices=[{"en": "Siam"}, {"en": "Asok"}],
    )
    with_case = Case.objects.filter(organisation=organisation).values("response_id")
    for response in Response.objects.filter(organisation=organisation).exclude(pk__in=with_case)[
        :2
    ]:
        CaseFactory(response=response)
    SurveyEventFactory.create_batch(2, organisation=organisation)
    # .invalid never resolves: a test event or a resend the fuzzer asks for goes nowhere.
    endpoint = WebhookEndpointFactory(organisation=organisation, url="https://hooks.invalid/chorus")
    WebhookDeliveryFactory.create_batch(2, endpoint=endpoint)

    staff = StaffRole.objects.filter(organisation=organisation)
    ids = {
        "communities": _ids(Community.objects.filter(organisation=organisation)),
        "members": _ids(Member.objects.filter(organisation=organisation, erased_at__isnull=True)),
        "segments": _ids(Segment.objects.filter(organisation=organisation)),
        "surveys": _ids(Survey.objects.filter(organisation=organisation)),
        "draft_surveys": [draft.pk],
        "questions": _ids(Question.objects.filter(survey=draft)),
        "choices": _ids(Choice.objects.filter(question__survey=draft)),
        "responses": _ids(Response.objects.filter(organisation=organisation)),
        "events": _ids(SurveyEvent.objects.filter(organisation=organisation)),
        "locations": _ids(Location.objects.filter(organisation=organisation)),
        "rewards": _ids(Reward.objects.filter(organisation=organisation)),
        "redemptions": _ids(Redemption.objects.filter(organisation=organisation)),
        "cases": _ids(Case.objects.filter(organisation=organisation)),
        "staff": sorted(staff.values_list("user_id", flat=True)),
        "webhook_endpoints": _ids(WebhookEndpoint.objects.filter(organisation=organisation)),
        "webhook_deliveries": _ids(WebhookDelivery.objects.filter(organisation=organisation)),
    }
    assert all(ids.values()), {name: found for name, found in ids.items() if not found}
    return FuzzWorld(organisation=organisation, analyst_email=analyst.email, ids=ids)
