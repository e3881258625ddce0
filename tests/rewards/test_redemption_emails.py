"""The emails of the redemption workflow, as a specification.

The member hears of each step by email, in their language, unless they asked for no
email; a voucher code is never in an email.
"""

import pytest

from communities.choices import MemberStatus
from rewards.choices import RewardKind
from rewards.selectors import member_balance
from rewards.services import (
    redemption_approve,
    redemption_fulfil,
    redemption_reject,
    redemption_request,
)
from tests.factories.communities import EmailSuppressionFactory, MemberFactory
from tests.factories.rewards import RewardFactory, VoucherCodeFactory
from tests.rewards.redemption_helpers import emails, funded

pytestmark = pytest.mark.django_db


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def rich(member):
    return funded(member, 500)


@pytest.fixture
def reward(organisation, community):
    """Three left, 100 points each."""
    return RewardFactory(organisation=organisation, community=community, cost=100, stock=3)


# --- emails ----------------------------------------------------------------------------------


def test_emails_are_in_the_members_language_with_the_rewards_name_in_it(community, staff):
    # given: a Thai member and a reward named in Thai
    member = funded(MemberFactory(community=community, locale="th"))
    reward = RewardFactory(
        organisation=community.organisation,
        community=community,
        name="Coffee mug",
        translations={"th": {"name": "แก้วกาแฟ"}},
    )
    # when
    redemption = redemption_request(member=member, reward=reward)
    redemption_reject(redemption=redemption, actor=staff, reason="ขออภัย")
    # then
    requested, rejected = emails()
    for email in (requested, rejected):
        assert email.language == "th"
        assert 'lang="th"' in email.body_html
        assert "แก้วกาแฟ" in email.subject and "แก้วกาแฟ" in email.body_text
    assert "ขออภัย" in rejected.body_html


def test_a_hebrew_members_email_reads_right_to_left(community, reward):
    member = funded(MemberFactory(community=community, locale="he"))
    redemption_request(member=member, reward=reward)
    (email,) = emails()
    assert email.language == "he" and 'dir="rtl"' in email.body_html


def test_each_email_links_to_the_members_redemptions_and_offers_unsubscribe(rich, reward):
    redemption_request(member=rich, reward=reward)
    (email,) = emails()
    org, community = rich.organisation.slug, rich.community.slug
    assert f"/c/{org}/{community}/rewards/redemptions/" in email.body_text
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_staff_words_are_escaped_in_the_html_email(rich, reward, staff):
    redemption = redemption_request(member=rich, reward=reward)
    redemption_reject(redemption=redemption, actor=staff, reason="<b>no</b> & sorry")
    (email,) = emails("redemption_rejected")
    assert "&lt;b&gt;no&lt;/b&gt; &amp; sorry" in email.body_html
    assert "<b>no</b> & sorry" in email.body_text


def test_a_suppressed_address_gets_no_email_but_still_redeems(rich, reward, organisation, staff):
    # given: the address asked the organisation for no more email
    EmailSuppressionFactory(organisation=organisation, email=rich.email)
    # when
    redemption = redemption_request(member=rich, reward=reward)
    redemption_reject(redemption=redemption, actor=staff, reason="No")
    # then
    assert emails() == []
    assert member_balance(member=rich) == 500


def test_a_member_who_unsubscribed_after_asking_gets_no_more_email(rich, reward, staff):
    # given: a request, then the member unsubscribes
    redemption = redemption_request(member=rich, reward=reward)
    type(rich).objects.filter(pk=rich.pk).update(status=MemberStatus.UNSUBSCRIBED)
    # when: staff reject it
    redemption_reject(redemption=redemption, actor=staff, reason="No")
    # then: the points come back, silently
    assert member_balance(member=rich) == 500
    assert [e.template for e in emails()] == ["redemption_requested"]


@pytest.mark.parametrize("kind", [k for k, _label in RewardKind.choices])
def test_every_step_renders_for_every_kind(rich, organisation, community, staff, kind):
    # given: a reward of each kind through a whole approved life
    reward = RewardFactory(organisation=organisation, community=community, kind=kind, stock=None)
    if kind == RewardKind.VOUCHER:
        VoucherCodeFactory(reward=reward, code="SECRET-X")
    redemption = redemption_request(member=rich, reward=reward, shipping_address="1 Main St")
    redemption_approve(redemption=redemption, actor=staff)
    if kind != RewardKind.VOUCHER:
        redemption_fulfil(redemption=redemption, actor=staff, tracking_note="note")
    # then: each email has a subject and both parts, none holding a code
    for email in emails():
        assert email.subject and email.body_text.strip() and email.body_html.strip()
        assert "{%" not in email.body_text and "SECRET" not in email.body_text
        assert reward.name in email.body_text
