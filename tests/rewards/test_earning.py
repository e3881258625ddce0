"""Earning rules: joining, completing the profile, a referral and a poll vote each earn the
community's points once, on a key naming the cause; nothing without a policy; an
anonymous answer's points never point at its response."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.choices import MemberStatus
from communities.flows import member_erase, member_invitation_accept, member_invite, member_join
from communities.models import Member
from communities.services import member_confirm, member_confirm_token
from communities.services.joining import member_confirm_by_link
from communities.services.members import member_create, member_profile_update
from rewards.choices import LedgerReason
from rewards.models import LedgerEntry
from rewards.selectors import member_balance
from surveys.choices import Anonymity, SurveyKind
from surveys.lookups import survey_by_public_id
from surveys.models import Response
from surveys.services.responses import response_submit, survey_points_key
from tests.factories.communities import (
    AttributeDefinitionFactory,
    CommunityFactory,
    ConsentRecordFactory,
    MemberFactory,
    UserFactory,
)
from tests.factories.rewards import RewardsPolicyFactory
from tests.factories.surveys import pool_release_now, survey_with_every_question_type
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(community):
    return RewardsPolicyFactory(
        community=community, join_points=50, profile_points=20, referral_points=30, poll_points=3
    )


def entries(member, reason=None):
    rows = LedgerEntry.objects.filter(member=member)
    return list(rows.filter(reason=reason) if reason else rows)


def join(community, email, **kwargs):
    return member_join(
        community=community, email=email, name="Kim Lee", terms_accepted=True, **kwargs
    ).member


# --- joining ----------------------------------------------------------------------------


def test_a_member_who_confirms_by_link_earns_the_welcome_points_once(community, policy):
    # given: someone asked to join and holds the confirmation link
    pending = join(community, "kim@example.com")
    signed = member_confirm_token(member=pending)
    assert entries(pending) == []
    # when: they confirm, and the confirmation is repeated
    member = member_confirm_by_link(signed=signed, community=community)
    member_confirm(member=member)
    # then: one welcome entry, keyed on the member, saying why
    (entry,) = entries(member, LedgerReason.JOINED)
    assert entry.reason == LedgerReason.JOINED and entry.points == 50
    assert entry.idempotency_key == f"joined:{member.pk}"
    assert entry.source == f"communities.member:{member.pk}"


def test_an_invited_member_who_accepts_earns_the_welcome_points(community, policy):
    invited = member_invite(community=community, email="ana@example.com")
    assert entries(invited) == []
    member = member_invitation_accept(member=invited, name="Ana", locale="en", terms_accepted=True)
    assert [(e.reason, e.points) for e in entries(member, LedgerReason.JOINED)] == [
        (LedgerReason.JOINED, 50)
    ]


def test_a_member_staff_add_directly_earns_no_welcome_points(community, policy):
    # Staff adding or importing people is not them joining: welcome points are for
    # people who confirm their own membership.
    member = member_create(community=community, email="added@example.com", name="Added")
    assert entries(member) == []


def test_a_member_who_left_and_comes_back_earns_nothing_more(community, policy):
    # given: a member who joined, earned their welcome points and left
    member = member_confirm(member=join(community, "kim@example.com"))
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.UNSUBSCRIBED)
    # when: they rejoin by a confirmation link
    member.refresh_from_db()
    member_confirm(member=member, payload={"r": 1})
    # then: still one welcome entry
    assert len(entries(member, LedgerReason.JOINED)) == 1
    # (their name completed their profile when they first joined: 20 more, once)
    assert member_balance(member=member) == 50 + 20


def test_without_a_policy_joining_earns_nothing(community):
    member = member_confirm(member=join(community, "kim@example.com"))
    assert member.status == MemberStatus.NEW
    assert entries(member) == []


def test_a_rule_at_zero_earns_nothing(community):
    RewardsPolicyFactory(community=community, join_points=0, profile_points=0)
    member = member_confirm(member=join(community, "kim@example.com"))
    assert entries(member) == []


def test_the_award_commits_with_the_confirmation_or_not_at_all(community, policy, monkeypatch):
    # given: writing the award fails
    pending = join(community, "kim@example.com")

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("rewards.services.earning.points_award", broken)
    # when
    with pytest.raises(RuntimeError):
        member_confirm(member=pending)
    # then: the member is still pending, to confirm again (and earn) later
    pending.refresh_from_db()
    assert pending.status == MemberStatus.PENDING


# --- referrals ----------------------------------------------------------------------------


def test_a_referrer_earns_once_per_person_who_confirms(community, policy):
    # given: a member whose referral code two people used
    referrer = MemberFactory(community=community, status=MemberStatus.ACTIVE)
    first = join(community, "one@example.com", referral_code=referrer.referral_code)
    second = join(community, "two@example.com", referral_code=referrer.referral_code)
    # when: they confirm (the first twice)
    member_confirm(member=first)
    member_confirm(member=first)
    member_confirm(member=second)
    # then: one referral entry per person referred, keyed on both
    earned = entries(referrer, LedgerReason.REFERRAL)
    assert sorted(e.idempotency_key for e in earned) == sorted(
        [f"referral:{referrer.pk}:{first.pk}", f"referral:{referrer.pk}:{second.pk}"]
    )
    assert all(e.points == 30 for e in earned)
    # and the entries say nothing about who the friends are (the ledger outlives erasure)
    assert all(e.detail == {} for e in earned)


def test_a_referral_earns_nothing_until_the_person_confirms(community, policy):
    referrer = MemberFactory(community=community)
    join(community, "one@example.com", referral_code=referrer.referral_code)
    assert entries(referrer) == []


def test_a_referrer_who_left_earns_nothing(community, policy):
    referrer = MemberFactory(community=community)
    referred = join(community, "one@example.com", referral_code=referrer.referral_code)
    member_erase(member=referrer)
    member_confirm(member=referred)
    assert entries(referrer) == []
    # the referred member still earns their own welcome points
    assert len(entries(referred, LedgerReason.JOINED)) == 1


# --- the profile ----------------------------------------------------------------------------


def test_saving_a_complete_profile_earns_the_profile_points_once(community, policy):
    # given: a community that requires a city, and a member without one
    AttributeDefinitionFactory(community=community, key="city", required=True)
    member = MemberFactory(community=community, name="Kim", attributes={})
    # when: they fill it in, then save again
    member_profile_update(member=member, name="Kim", locale="en", attributes={"city": "Bangkok"})
    member_profile_update(member=member, name="Kim", locale="en", attributes={"city": "Chiang Mai"})
    # then: one profile entry
    (entry,) = entries(member)
    assert entry.reason == LedgerReason.PROFILE_COMPLETED and entry.points == 20
    assert entry.idempotency_key == f"profile:{member.pk}"


def test_a_profile_without_a_name_is_not_complete(community, policy):
    member = MemberFactory(community=community, name="")
    member_profile_update(member=member, name="", locale="en", attributes={})
    assert entries(member) == []
    member_profile_update(member=member, name="Kim", locale="en", attributes={})
    assert [e.reason for e in entries(member)] == [LedgerReason.PROFILE_COMPLETED]


def test_joining_with_a_complete_profile_earns_profile_points_at_confirmation(community, policy):
    AttributeDefinitionFactory(community=community, key="city", required=True, ask_on_join=True)
    member = member_confirm(
        member=join(community, "kim@example.com", attributes={"city": "Bangkok"})
    )
    assert sorted(e.reason for e in entries(member)) == sorted(
        [LedgerReason.JOINED, LedgerReason.PROFILE_COMPLETED]
    )


def test_a_pending_member_earns_nothing_for_a_profile(community, policy):
    pending = join(community, "kim@example.com")
    member_profile_update(member=pending, name="Kim", locale="en", attributes={})
    assert entries(pending) == []


def test_without_a_policy_the_profile_earns_nothing(community):
    member = MemberFactory(community=community, name="Kim")
    member_profile_update(member=member, name="Kim", locale="en", attributes={})
    assert entries(member) == []


# --- polls and surveys ---------------------------------------------------------------------


def poll_of(community, **kwargs):
    fields = {"kind": SurveyKind.POLL, "points": 0, **kwargs}
    return survey_with_every_question_type(
        organisation=community.organisation, community=community, **fields
    )


def vote(survey, member):
    data = answers_for(survey)
    key = data.pop("idempotency_key")
    # As the respondent page finds it: through its lookup, the policy joined.
    survey = survey_by_public_id(survey.public_id)
    return response_submit(survey=survey, raw_answers=data, idempotency_key=key, member=member)


def test_a_poll_without_points_earns_the_communitys_poll_points_once(community, policy, member):
    poll = poll_of(community, title={"en": "Oat milk?", "th": "นมโอ๊ต?"})
    result = vote(poll, member)
    assert result.points_awarded == 3
    (entry,) = entries(member)
    assert entry.reason == LedgerReason.POLL_VOTED and entry.points == 3
    assert entry.detail == {"title": "Oat milk?"}
    assert entry.idempotency_key == survey_points_key(survey_id=poll.pk, member_id=member.pk)


def test_a_polls_own_points_win_over_the_policy(community, policy, member):
    poll = poll_of(community, points=5)
    assert vote(poll, member).points_awarded == 5
    (entry,) = entries(member)
    assert entry.reason == LedgerReason.SURVEY_COMPLETED and entry.points == 5


def test_a_survey_without_points_earns_no_poll_points(community, policy, member):
    survey = poll_of(community, kind=SurveyKind.SURVEY)
    assert vote(survey, member).points_awarded == 0
    assert entries(member) == []


def test_a_poll_earns_nothing_without_a_policy(community, member):
    assert vote(poll_of(community), member).points_awarded == 0
    assert entries(member) == []


def test_a_survey_completion_says_which_survey_in_the_members_language(community, member):
    member.locale = "th"
    member.save(update_fields=["locale"])
    survey = poll_of(
        community, kind=SurveyKind.SURVEY, points=10, title={"en": "Visit", "th": "การมาเยือน"}
    )
    vote(survey, member)
    assert entries(member)[0].detail == {"title": "การมาเยือน"}


def test_a_vote_with_the_policys_points_costs_no_more_queries_than_one_with_its_own(
    community, policy, member, member_client
):
    # given: three polls, one to warm the page up, one with its own points, one without
    warm, own, ruled = (
        poll_of(community, points=1),
        poll_of(community, points=5),
        poll_of(community),
    )

    def post(poll) -> int:
        url = reverse("surveys:survey_respond", args=[poll.public_id])
        member_client.get(url)
        with CaptureQueriesContext(connection) as queries:
            page = member_client.post(url, answers_for(poll))
        assert page.status_code == 302
        return len(queries)

    post(warm)
    # then: reading the community's poll points adds no query to the vote
    assert post(ruled) == post(own)
    assert member_balance(member=member) == 1 + 5 + 3


def test_an_anonymous_polls_points_name_the_poll_never_the_response(community, policy, member):
    # given: an anonymous poll that awards points for anonymous votes
    poll = poll_of(
        community, anonymity=Anonymity.ANONYMOUS, anonymous_points=True, title={"en": "Oat?"}
    )
    result = vote(poll, member)
    assert result.pooled and result.points_pending == 3
    # when: the pool is released
    pool_release_now(poll)
    # then: the vote earned the poll points, and the entry names only the poll
    (entry,) = entries(member)
    response = Response.objects.get(survey=poll)
    assert entry.reason == LedgerReason.POLL_VOTED and entry.points == 3
    assert entry.detail == {"title": "Oat?"}
    assert entry.source == f"surveys.survey:{poll.pk}"
    assert entry.idempotency_key == survey_points_key(survey_id=poll.pk, member_id=member.pk)
    assert response.member_id is None
    # (source, key and detail are all named above: nothing else could hold the response)
    assert "response" not in entry.source and set(entry.detail) == {"title"}
    assert response.idempotency_key not in entry.idempotency_key


def test_an_anonymous_surveys_points_keep_their_reason_and_name_only_the_survey(community, member):
    survey = poll_of(
        community,
        kind=SurveyKind.SURVEY,
        points=25,
        anonymity=Anonymity.ANONYMOUS,
        anonymous_points=True,
        title={"en": "Visit"},
    )
    vote(survey, member)
    pool_release_now(survey)
    (entry,) = entries(member)
    assert entry.reason == LedgerReason.SURVEY_COMPLETED and entry.points == 25
    assert entry.detail == {"title": "Visit"}
    assert set(entry.detail) == {"title"}


def test_members_of_another_community_earn_by_their_own_communitys_rules(
    community, policy, organisation
):
    # given: a second community of the organisation with other rules
    other = CommunityFactory(organisation=organisation)
    RewardsPolicyFactory(community=other, join_points=7)
    user = UserFactory(email="x@example.com")
    member = MemberFactory(community=other, user=user, email=user.email, status="pending")
    ConsentRecordFactory(member=member, policy_version=other.policy_version)
    # when
    member_confirm(member=member)
    # then
    assert [e.points for e in entries(member)] == [7]
