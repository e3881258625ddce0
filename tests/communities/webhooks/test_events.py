"""Each cause emits its event in its own transaction, with a payload that names a person
only as far as the event's consent allows."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from communities.choices import ConsentChannel, ConsentPurpose, MemberStatus
from communities.flows import member_erase
from communities.services import email_unsubscribe, member_confirm, unsubscribe_token
from communities.services.consent import member_consent_change
from communities.services.members import member_create
from communities.webhooks.choices import WebhookEvent
from communities.webhooks.models import WebhookDelivery
from rewards.services import redemption_approve, redemption_reject, redemption_request
from surveys.services.responses import response_submit
from tests.communities.webhooks.helpers import payloads
from tests.factories.communities import (
    ConsentRecordFactory,
    MemberFactory,
    UserFactory,
    WebhookEndpointFactory,
)
from tests.factories.rewards import LedgerEntryFactory, RewardFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(organisation):
    return WebhookEndpointFactory(organisation=organisation)


def _submit(survey, **kwargs):
    data = answers_for(survey, text="Lovely coffee")
    key = data.pop("idempotency_key")
    return response_submit(survey=survey, raw_answers=data, idempotency_key=key, **kwargs)


def test_a_submitted_response_is_announced_with_its_answers_by_question(endpoint, survey, member):
    # given an endpoint subscribed to response.created
    # when a member submits, agreeing to be contacted about the answer
    result = _submit(survey, member=member, language="th", consent_to_contact=True)
    # then one delivery carries the response, its answers keyed by question id, and the
    # member (not anonymous, and they consented)
    (payload,) = payloads("response.created")
    response = result.response
    assert payload["id"] == f"response.created:{response.pk}"
    data = payload["data"]
    assert data["response"] == response.pk
    assert data["survey"] == survey.pk
    assert data["language"] == "th"
    assert data["anonymous"] is False
    assert data["member"] == member.pk
    answers = {int(qid): answer for qid, answer in data["answers"].items()}
    stored = {a.question_id: a for a in response.answers.all()}
    assert set(answers) == set(stored)
    nps = survey.questions.get(type="nps")
    assert answers[nps.pk]["number"] == 9
    assert "Lovely coffee" in [a["text"] for a in answers.values()]
    assert any(a["choices"] for a in answers.values())


def test_a_member_who_did_not_agree_to_be_contacted_is_not_named(endpoint, survey, member):
    # when a member answers without consenting to contact
    _submit(survey, member=member)
    # then the payload does not name them
    (payload,) = payloads("response.created")
    assert payload["data"]["member"] is None


def test_an_anonymous_response_carries_no_member_and_only_the_hour(endpoint, survey):
    # when someone answers through the public link (anonymous)
    result = _submit(survey)
    # then the payload names nobody and its time is the response's coarse hour
    (payload,) = payloads("response.created")
    data = payload["data"]
    assert data["anonymous"] is True
    assert data["member"] is None
    assert data["submitted_at"].endswith(":00:00Z")
    assert result.response.member_id is None


def test_the_submit_path_asks_nothing_about_webhooks_when_none_exist(
    survey, member, django_assert_max_num_queries
):
    # given an organisation without endpoints whose (empty) list is already cached
    _submit(survey, member=member)
    # when another response is submitted
    with django_assert_max_num_queries(100) as captured:
        _submit(survey)
    # then no statement touched the webhook tables
    assert not [q for q in captured.captured_queries if "webhook" in q["sql"].lower()]
    assert not WebhookDelivery.objects.exists()


def test_an_endpoint_not_subscribed_to_responses_gets_none(organisation, survey):
    # given an endpoint that only wants member events
    WebhookEndpointFactory(organisation=organisation, events=[WebhookEvent.MEMBER_JOINED])
    # when a response is submitted
    _submit(survey)
    # then nothing is queued
    assert not WebhookDelivery.objects.exists()


def test_a_confirmed_member_is_announced_as_joined_by_id_only(endpoint, community):
    # given a member waiting to confirm their address
    member = MemberFactory(community=community, status=MemberStatus.PENDING)
    # when they confirm
    member_confirm(member=member)
    # then member.joined names them by id, with no address or name
    (payload,) = payloads("member.joined")
    data = payload["data"]
    assert data["member"] == member.pk
    assert data["community"] == community.pk
    assert data["status"] == MemberStatus.NEW
    assert member.email not in str(payload)
    # and confirming again announces nothing more
    member_confirm(member=member)
    assert len(payloads("member.joined")) == 1


def test_a_member_added_by_staff_is_announced_as_joined(endpoint, community):
    # when staff add a member directly
    member = member_create(community=community, email="new@example.com", name="New Person")
    # then member.joined is queued for them
    (payload,) = payloads("member.joined")
    assert payload["data"]["member"] == member.pk
    assert "new@example.com" not in str(payload)


def test_an_invited_member_is_not_announced_until_they_join(endpoint, community):
    # when staff invite someone (not yet a member)
    member_create(community=community, email="later@example.com", status=MemberStatus.INVITED)
    # then nothing is announced
    assert payloads("member.joined") == []


def test_leaving_the_community_is_announced_as_unsubscribed_once(endpoint, member):
    # when a member withdraws the community terms, twice
    for _ in range(2):
        member_consent_change(member=member, purpose=ConsentPurpose.COMMUNITY_TERMS, granted=False)
    # then one member.unsubscribed names them by id
    (payload,) = payloads("member.unsubscribed")
    assert payload["data"]["member"] == member.pk
    assert payload["data"]["status"] == MemberStatus.UNSUBSCRIBED


def test_an_unsubscribe_link_announces_each_member_with_the_address(endpoint, organisation, member):
    # when the member's address is unsubscribed from the organisation's email
    email_unsubscribe(signed=unsubscribe_token(organisation_id=organisation.pk, email=member.email))
    # then member.unsubscribed names the member by id, without the address
    (payload,) = payloads("member.unsubscribed")
    assert payload["data"]["member"] == member.pk
    assert member.email not in str(payload)


def test_an_erased_member_is_announced_by_id_only(endpoint, member):
    # when a member is erased
    email, name = member.email, member.name
    member_erase(member=member)
    # then member.erased carries the id and nothing else
    (payload,) = payloads("member.erased")
    assert payload["data"] == {"member": member.pk}
    assert email not in str(payload)
    assert not name or name not in str(payload)


@pytest.fixture
def redeemer(community):
    user = UserFactory()
    member = MemberFactory(community=community, user=user, email=user.email)
    ConsentRecordFactory(
        member=member, policy_version=community.policy_version, channel=ConsentChannel.WEB
    )
    LedgerEntryFactory(member=member, points=1000)
    return member


@pytest.fixture
def reward(organisation, community):
    return RewardFactory(organisation=organisation, community=community, cost=100)


def test_a_redemption_request_and_its_approval_are_announced(
    endpoint, redeemer, reward, staff_user
):
    # when a member asks for a reward and staff approve it
    redemption = redemption_request(member=redeemer, reward=reward)
    redemption_approve(redemption=redemption, actor=staff_user)
    # then redemption.requested, then redemption.decided (approved) are queued
    (requested,) = payloads("redemption.requested")
    assert requested["data"]["redemption"] == redemption.pk
    assert requested["data"]["member"] == redeemer.pk
    assert requested["data"]["points"] == 100
    (decided,) = payloads("redemption.decided")
    assert decided["data"]["decision"] == "approved"
    assert decided["data"]["status"] == "approved"


def test_a_rejected_redemption_is_announced_with_the_decision(
    endpoint, redeemer, reward, staff_user
):
    # given a request
    redemption = redemption_request(member=redeemer, reward=reward)
    # when staff reject it
    redemption_reject(redemption=redemption, actor=staff_user, reason="Out of season")
    # then redemption.decided says rejected
    (decided,) = payloads("redemption.decided")
    assert decided["data"]["decision"] == "rejected"
    assert decided["data"]["status"] == "rejected"


def test_a_refused_redemption_announces_nothing(endpoint, community, reward):
    # given a member without the points
    poor = MemberFactory(community=community)
    ConsentRecordFactory(member=poor, policy_version=community.policy_version)
    # when they ask for the reward (refused, rolled back)
    with pytest.raises(ValidationError):
        redemption_request(member=poor, reward=reward)
    # then nothing was queued
    assert payloads("redemption.requested") == []


def test_members_imported_are_each_announced_as_joined(
    endpoint, community, django_capture_on_commit_callbacks
):
    # given a checked import of three people
    from communities.services import member_import_confirm, member_import_create

    data = b"email,name\nann@example.com,Ann\nbob@example.com,Bob\ncy@example.com,Cy\n"
    with django_capture_on_commit_callbacks(execute=True):
        member_import = member_import_create(
            community=community, filename="people.csv", data=data, consent_confirmed=True
        )
    # when staff confirm it and it is written (the deliveries' sends held back)
    with (
        mock.patch("communities.webhooks.tasks.webhook_deliver_task.apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        member_import_confirm(member_import=member_import)
    # then each new member is announced once, by id
    joined = payloads("member.joined")
    assert len(joined) == 3
    assert {p["data"]["community"] for p in joined} == {community.pk}
    assert "ann@example.com" not in str(joined)
    # (and one task is queued to send them all)
    assert send.call_count == 1
