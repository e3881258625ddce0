"""Joining an open community: the public page, consent, double opt-in, rate limits."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from communities.choices import ConsentPurpose, JoinMode, MemberStatus
from communities.models import ConsentRecord, EmailSuppression, LinkToken, Member, User
from communities.outbox.models import OutboundEmail
from communities.services import member_confirm_token
from tests.factories.communities import (
    AttributeDefinitionFactory,
    CommunityFactory,
    EmailSuppressionFactory,
    MemberFactory,
)

pytestmark = pytest.mark.django_db


def join_url(community) -> str:
    return reverse("community:join", args=[community.organisation.slug, community.slug])


def home_url(community) -> str:
    return reverse("surveys:community_home", args=[community.organisation.slug, community.slug])


def form(**overrides) -> dict:
    data = {"name": "Ann Lee", "email": "Ann@Example.com", "language": "en", "consent": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- the page --------------------------------------------------------------------------------


def test_member_pages_show_only_a_logo_served_by_this_site(client, community):
    # given: an organisation logo from before the same-site rule, on another host
    organisation = community.organisation
    organisation.logo = "https://tracker.example.net/logo.png"
    organisation.save()
    # when / then: it is not loaded, so no visitor's address reaches that host
    assert "tracker.example.net" not in client.get(join_url(community)).content.decode()
    community.logo = "/static/img/regulars.png"
    community.save()
    assert 'src="/static/img/regulars.png"' in client.get(join_url(community)).content.decode()


def test_join_page_is_branded_and_asks_the_attributes_marked_for_joining(client, community):
    # given
    community.welcome_text = "Tell us what you think of our coffee."
    community.brand_colour = "#aa3300"
    community.save()
    AttributeDefinitionFactory(community=community, age_band=True, ask_on_join=True)
    AttributeDefinitionFactory(community=community, key="secret_score", ask_on_join=False)
    # when
    page = client.get(join_url(community) + "?lang=th")
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "Tell us what you think of our coffee." in html and "#aa3300" in html
    assert "ช่วงอายุ" in html  # the attribute's label in the page's language
    assert "attr_age_band" in html and "attr_secret_score" not in html
    assert (
        reverse("surveys:community_privacy", args=[community.organisation.slug, community.slug])
        in html
    )
    assert "/accounts/login/code/" in html  # "Already a member? Sign in"


def test_invite_only_community_shows_by_invitation_only_and_refuses_posts(client, community):
    # given
    community.join_mode = JoinMode.INVITE_ONLY
    community.save()
    # when
    page = client.get(join_url(community))
    posted = client.post(join_url(community), form())
    # then
    assert page.status_code == 403 and "by invitation only" in page.content.decode()
    assert posted.status_code == 403
    assert not Member.objects.exists()


def test_unknown_community_join_page_is_404(client, organisation):
    assert (
        client.get(reverse("community:join", args=[organisation.slug, "nope"])).status_code == 404
    )


# --- joining ----------------------------------------------------------------------------------


def test_join_makes_a_pending_member_records_consent_and_sends_the_confirmation(
    client, community, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    community.policy_version = 3
    community.save()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(join_url(community), form(marketing="on", language="he"))
    # then
    assert page.status_code == 302
    assert page["Location"].startswith(
        reverse("community:join_sent", args=[community.organisation.slug, community.slug])
    )
    member = Member.objects.get()
    assert member.email == "ann@example.com" and member.status == MemberStatus.PENDING
    assert member.locale == "he" and member.joined_at is None and member.confirmed_at is None
    consents = {(c.purpose, c.granted, c.policy_version, c.channel) for c in member.consents.all()}
    assert consents == {
        (ConsentPurpose.COMMUNITY_TERMS, True, 3, "web"),
        (ConsentPurpose.MARKETING, True, 3, "web"),
    }
    email = OutboundEmail.objects.get()
    assert email.template == "join_confirm" and email.to_email == "ann@example.com"
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/u/" in email.headers["List-Unsubscribe"] and "/u/" in email.body_text
    assert len(mailoutbox) == 1 and "/confirm/" in mailoutbox[0].body


def test_marketing_consent_is_recorded_only_when_ticked(client, community):
    client.post(join_url(community), form())
    member = Member.objects.get()
    assert list(member.consents.values_list("purpose", flat=True)) == [
        ConsentPurpose.COMMUNITY_TERMS
    ]


def test_join_without_the_consent_checkbox_records_nothing(client, community):
    # when: the box left unticked (and a forged "off" value)
    missing = client.post(join_url(community), form(consent=None))
    forged = client.post(join_url(community), form(consent=""))
    # then
    assert missing.status_code == 400 and forged.status_code == 400
    assert "Please accept the community terms" in missing.content.decode()
    assert not Member.objects.exists() and not ConsentRecord.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_member_join_flow_refuses_consent_not_given(community):
    from django.core.exceptions import ValidationError

    from communities.flows import member_join

    with pytest.raises(ValidationError):
        member_join(community=community, email="a@example.com", terms_accepted=False)
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"email": ""}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"name": "x" * 201}, "name"),
        ({"language": "xx"}, "language"),
    ],
)
def test_bad_join_input_is_a_clear_error_and_no_member(client, community, overrides, field):
    page = client.post(join_url(community), form(**overrides))
    assert page.status_code == 400
    assert "is-invalid" in page.content.decode()
    assert not Member.objects.exists()


def test_join_attributes_are_validated(client, community):
    # given
    AttributeDefinitionFactory(community=community, age_band=True, ask_on_join=True, required=True)
    # when
    bad = client.post(join_url(community), form(attr_age_band="99-120"))
    missing = client.post(join_url(community), form())
    good = client.post(join_url(community), form(attr_age_band="25-34"))
    # then
    assert bad.status_code == 400 and "Choose one of" in bad.content.decode()
    assert missing.status_code == 400
    assert good.status_code == 302
    assert Member.objects.get().attributes == {"age_band": "25-34"}


def test_joining_again_while_pending_resends_the_confirmation_and_changes_nothing(
    client, community
):
    # given
    client.post(join_url(community), form())
    # when: someone posts the same address with another name
    page = client.post(join_url(community), form(email=" ANN@example.com ", name="Mallory"))
    # then: the same page, a second confirmation, and the member untouched
    assert page.status_code == 302 and "join/sent" in page["Location"]
    member = Member.objects.get()
    assert member.name == "Ann Lee"
    assert OutboundEmail.objects.filter(template="join_confirm").count() == 2
    assert member.consents.count() == 1


def test_joining_as_a_confirmed_member_sends_an_already_a_member_email(client, community):
    # given
    member = MemberFactory(community=community, email="ann@example.com")
    # when
    page = client.post(join_url(community), form())
    # then: the same "check your email" page as anyone gets
    assert page.status_code == 302 and "join/sent" in page["Location"]
    email = OutboundEmail.objects.get()
    assert email.template == "already_member" and email.to_email == member.email
    assert "/accounts/login/code/" in email.body_text
    assert "List-Unsubscribe" in email.headers
    assert Member.objects.count() == 1


def test_already_a_member_email_respects_an_unsubscribe(client, community):
    MemberFactory(community=community, email="ann@example.com")
    EmailSuppressionFactory(organisation=community.organisation, email="ann@example.com")
    assert client.post(join_url(community), form()).status_code == 302
    assert not OutboundEmail.objects.exists()


def test_the_confirmation_goes_even_to_an_address_that_unsubscribed_before(client, community):
    # given: the address stopped this organisation's email earlier
    EmailSuppressionFactory(organisation=community.organisation, email="ann@example.com")
    # when: the person asks to join
    client.post(join_url(community), form())
    # then: the double opt-in email is the one exception
    assert OutboundEmail.objects.get().template == "join_confirm"


def test_join_is_rate_limited_per_address(client, community):
    # given: five joins with one address within the hour
    for _ in range(5):
        assert client.post(join_url(community), form()).status_code == 302
    # when
    page = client.post(join_url(community), form())
    # then
    assert page.status_code == 429 and "Too many attempts" in page.content.decode()
    # and re-sends were capped lower still
    assert OutboundEmail.objects.filter(template="join_confirm").count() == 4


def test_join_is_rate_limited_per_client_ip(client, community):
    for n in range(20):
        client.post(join_url(community), form(email=f"person{n}@example.com"))
    page = client.post(join_url(community), form(email="one-more@example.com"))
    assert page.status_code == 429
    assert Member.objects.count() == 20


def test_referral_link_sets_referred_by_only_within_the_community(client, community):
    # given
    referrer = MemberFactory(community=community, referral_code="friend123")
    stranger = MemberFactory(referral_code="elsewhere99")  # another community
    # when
    page = client.get(join_url(community) + "?ref=friend123")
    client.post(join_url(community), form(ref="friend123"))
    client.post(join_url(community), form(email="bob@example.com", ref=stranger.referral_code))
    client.post(join_url(community), form(email="cy@example.com", ref="no-such-code"))
    # then
    assert 'value="friend123"' in page.content.decode()
    assert Member.objects.get(email="ann@example.com").referred_by == referrer
    assert Member.objects.get(email="bob@example.com").referred_by is None
    assert Member.objects.get(email="cy@example.com").referred_by is None


def test_join_page_works_right_to_left_in_hebrew(client, community):
    page = client.get(join_url(community) + "?lang=he")
    assert 'dir="rtl"' in page.content.decode()
    assert "bootstrap.rtl" in page.content.decode()


# --- confirming ------------------------------------------------------------------------------


def _join_and_link(client, community) -> str:
    client.post(join_url(community), form())
    body = OutboundEmail.objects.filter(template="join_confirm").latest("created_at").body_text
    return re.search(r"(/c/\S+/confirm/\S+/)", body).group(1)


def test_confirm_link_confirms_makes_a_verified_account_and_signs_in(client, community):
    # given
    link = _join_and_link(client, community)
    # when: they open it, and press the page's button
    opened = client.get(link)
    assert opened.status_code == 200 and "Confirm and continue" in opened.content.decode()
    page = client.post(link)
    # then
    assert page.status_code == 302 and page["Location"] == home_url(community)
    member = Member.objects.get()
    assert member.status == MemberStatus.NEW
    assert member.confirmed_at and member.joined_at
    user = User.objects.get(email="ann@example.com")
    assert member.user == user and not user.has_usable_password()
    assert user.emailaddress_set.get().verified
    assert client.session["_auth_user_id"] == str(user.pk)
    welcome = client.get(home_url(community)).content.decode()
    assert "Welcome to" in welcome


def test_a_used_confirm_link_never_signs_in_again(client, community):
    link = _join_and_link(client, community)
    client.post(link)
    client.logout()
    page = client.get(link)
    again = client.post(link)
    assert page.status_code == 409 and "already been used" in page.content.decode()
    assert again.status_code == 409
    assert "_auth_user_id" not in client.session
    assert Member.objects.get().status == MemberStatus.NEW


def test_confirm_links_to_an_existing_account(client, community, member_user):
    # given: the address already has an account (staff, or a member elsewhere)
    client.post(join_url(community), form(email=member_user.email))
    body = OutboundEmail.objects.get(template="join_confirm").body_text
    # when
    client.post(re.search(r"(/c/\S+/confirm/\S+/)", body).group(1))
    # then
    assert User.objects.count() == 1
    assert Member.objects.get().user == member_user
    assert member_user.has_usable_password()


def test_forged_confirm_link_is_400(client, community):
    link = _join_and_link(client, community)
    page = client.get(link[:-3] + "xx/")
    assert page.status_code == 400 and "not valid" in page.content.decode()
    assert Member.objects.get().status == MemberStatus.PENDING


def test_confirm_link_for_another_community_is_400(client, community):
    # given
    other = CommunityFactory(organisation=community.organisation)
    link = _join_and_link(client, community)
    # when
    page = client.get(link.replace(f"/{community.slug}/", f"/{other.slug}/"))
    # then
    assert page.status_code == 400
    assert Member.objects.get().status == MemberStatus.PENDING


def test_expired_confirm_link_is_410_and_offers_a_new_link(client, community):
    # given: a link sent eight days ago
    link = _join_and_link(client, community)
    eight_days_ago = timezone.now() - timedelta(days=8)
    LinkToken.objects.update(
        created_at=eight_days_ago, expires_at=eight_days_ago + timedelta(days=7)
    )
    # when
    page = client.get(link)
    # then
    assert page.status_code == 410 and "Send me a new link" in page.content.decode()
    assert Member.objects.get().status == MemberStatus.PENDING
    # when: they ask for a new one
    resent = client.post(link)
    # then
    assert resent.status_code == 302
    assert OutboundEmail.objects.filter(template="join_confirm").count() == 2


def test_confirm_link_stops_working_once_the_address_is_erased(client, community):
    from communities.flows import member_erase

    link = _join_and_link(client, community)
    member_erase(member=Member.objects.get())
    assert client.get(link).status_code == 400


def test_confirm_token_is_opaque_and_its_row_names_the_member_and_address(community):
    member = MemberFactory(community=community, status=MemberStatus.PENDING)
    token = member_confirm_token(member=member)
    with pytest.raises(signing.BadSignature):
        signing.loads(token, salt="chorus.member-confirm")
    row = LinkToken.objects.get()
    assert (row.member, row.email) == (member, member.email)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_someone_who_left_can_rejoin_and_their_consent_is_recorded_on_confirm(client, community):
    # given: a member who left
    member = MemberFactory(community=community, email="ann@example.com")
    member.status = MemberStatus.UNSUBSCRIBED
    member.save()
    EmailSuppressionFactory(organisation=community.organisation, email="ann@example.com")
    # when: they ask to join again
    client.post(join_url(community), form(marketing="on"))
    # then: nothing recorded yet, only the confirmation sent
    assert not member.consents.exists()
    body = OutboundEmail.objects.get(template="join_confirm").body_text
    # when: they open it and confirm
    client.post(re.search(r"(/c/\S+/confirm/\S+/)", body).group(1))
    # then
    member.refresh_from_db()
    assert member.status == MemberStatus.NEW
    assert set(member.consents.values_list("purpose", "granted")) == {
        (ConsentPurpose.COMMUNITY_TERMS, True),
        (ConsentPurpose.MARKETING, True),
    }
    assert not EmailSuppression.objects.filter(email="ann@example.com").exists()
