"""Addresses pasted into Distribute are matched to the organisation's members: each member
gets the email in their own language, and nobody is sent it who unsubscribed, left, never
agreed to hear from the community, or already answered; the send's page says how many
went, how many were members, and who was skipped why. Reminders are screened the same way."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from communities.choices import ConsentPurpose, MemberStatus
from communities.models import EmailSuppression
from surveys.models import InvitationBatch, SurveyInvitation
from surveys.recipients import SkipReason, skips_shown
from surveys.services import invitation_batch_create, reminders_send
from tests.factories.communities import (
    CommunityFactory,
    ConsentRecordFactory,
    MemberFactory,
)
from tests.factories.surveys import (
    InvitationBatchFactory,
    ParticipationFactory,
    SurveyInvitationFactory,
)

pytestmark = pytest.mark.django_db


def send(survey, lines, callbacks, **kwargs) -> InvitationBatch:
    with callbacks(execute=True):
        batch = invitation_batch_create(
            survey=survey, recipients=[(email, name) for email, name in lines], **kwargs
        )
    batch.refresh_from_db()
    return batch


def sent_to() -> dict[str, str]:
    """Each recipient's address → the subject of their email."""
    return {m.to[0]: m.subject for m in mail.outbox}


def distribute_url(survey) -> str:
    return reverse("staff:survey_distribute", args=[survey.organisation.slug, survey.pk])


# --- matching -----------------------------------------------------------------------------


def test_a_pasted_address_of_a_hebrew_member_gets_the_hebrew_email(
    survey, community, django_capture_on_commit_callbacks
):
    # given: Noa reads Hebrew; staff paste her address in capitals, with no name
    noa = MemberFactory(community=community, email="noa@example.com", name="Noa", locale="he")
    # when
    batch = send(survey, [("NOA@Example.com", "")], django_capture_on_commit_callbacks)
    # then: the invitation is hers, in her language and with her name
    invitation = SurveyInvitation.objects.get(batch=batch)
    assert invitation.member == noa and invitation.language == "he"
    assert invitation.name == "Noa"
    assert "would like your opinion" not in mail.outbox[0].subject
    assert 'lang="he" dir="rtl"' in mail.outbox[0].alternatives[0][0]


def test_an_unknown_address_is_sent_as_before_in_the_organisations_language(
    survey, django_capture_on_commit_callbacks
):
    batch = send(survey, [("guest@example.com", "Guest")], django_capture_on_commit_callbacks)
    invitation = SurveyInvitation.objects.get(batch=batch)
    assert invitation.member is None and invitation.language == ""
    assert list(sent_to()) == ["guest@example.com"]
    assert 'lang="en"' in mail.outbox[0].alternatives[0][0]


def test_another_organisations_member_is_not_matched(
    survey, other_organisation, django_capture_on_commit_callbacks
):
    # given: the same address is a Hebrew-speaking member who unsubscribed, elsewhere
    MemberFactory(
        community=CommunityFactory(organisation=other_organisation),
        email="kim@example.com",
        locale="he",
        status=MemberStatus.UNSUBSCRIBED,
    )
    EmailSuppression.objects.create(organisation=other_organisation, email="kim@example.com")
    # when
    batch = send(survey, [("kim@example.com", "")], django_capture_on_commit_callbacks)
    # then: to this organisation Kim is a stranger, sent to as before
    invitation = SurveyInvitation.objects.get(batch=batch)
    assert invitation.member is None and invitation.language == ""
    assert batch.skipped == {}


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (MemberStatus.UNSUBSCRIBED, SkipReason.UNSUBSCRIBED),
        (MemberStatus.PENDING, SkipReason.NO_CONSENT),
        (MemberStatus.INVITED, SkipReason.NO_CONSENT),
        (MemberStatus.LAPSED, None),
    ],
)
def test_a_matched_member_is_sent_only_with_their_agreement(
    survey, community, status, reason, django_capture_on_commit_callbacks
):
    MemberFactory(community=community, email="kim@example.com", status=status)
    batch = send(survey, [("kim@example.com", "")], django_capture_on_commit_callbacks)
    if reason is None:
        assert list(sent_to()) == ["kim@example.com"] and batch.skipped == {}
    else:
        assert mail.outbox == [] and batch.skipped == {reason: 1}


def test_a_member_who_withdrew_the_community_terms_is_skipped(
    survey, community, django_capture_on_commit_callbacks
):
    # given: an active member whose latest decision on the terms is a withdrawal
    kim = MemberFactory(community=community, email="kim@example.com")
    ConsentRecordFactory(member=kim, purpose=ConsentPurpose.COMMUNITY_TERMS, granted=True)
    ConsentRecordFactory(
        member=kim,
        purpose=ConsentPurpose.COMMUNITY_TERMS,
        granted=False,
        recorded_at=timezone.now() + timedelta(seconds=1),
    )
    batch = send(survey, [("kim@example.com", "")], django_capture_on_commit_callbacks)
    assert mail.outbox == [] and batch.skipped == {SkipReason.NO_CONSENT: 1}


def test_a_suppressed_address_is_skipped_whether_or_not_a_member(
    survey, community, django_capture_on_commit_callbacks
):
    EmailSuppression.objects.create(organisation=survey.organisation, email="gone@example.com")
    EmailSuppression.objects.create(organisation=survey.organisation, email="left@example.com")
    MemberFactory(community=community, email="left@example.com")
    batch = send(
        survey,
        [("gone@example.com", ""), ("left@example.com", "")],
        django_capture_on_commit_callbacks,
    )
    assert mail.outbox == [] and batch.skipped == {SkipReason.UNSUBSCRIBED: 2}


def test_someone_who_already_answered_is_not_invited_again(
    survey, community, django_capture_on_commit_callbacks
):
    # given: a member who took part (signed in), and a guest who answered an earlier link
    noa = MemberFactory(community=community, email="noa@example.com")
    ParticipationFactory(survey=survey, member=noa)
    SurveyInvitationFactory(survey=survey, email="guest@example.com", responded_at=timezone.now())
    # when
    batch = send(
        survey,
        [("noa@example.com", ""), ("guest@example.com", ""), ("new@example.com", "")],
        django_capture_on_commit_callbacks,
    )
    # then
    assert list(sent_to()) == ["new@example.com"]
    assert batch.skipped == {SkipReason.ANSWERED: 2}


def test_a_survey_that_takes_several_answers_invites_those_who_answered(
    survey, community, django_capture_on_commit_callbacks
):
    survey.allow_multiple_responses = True
    survey.save()
    noa = MemberFactory(community=community, email="noa@example.com")
    ParticipationFactory(survey=survey, member=noa)
    send(survey, [("noa@example.com", "")], django_capture_on_commit_callbacks)
    assert list(sent_to()) == ["noa@example.com"]


def test_a_community_send_skips_members_who_answered_and_counts_them(
    survey, community, django_capture_on_commit_callbacks
):
    noa = MemberFactory(community=community, email="noa@example.com", locale="th")
    MemberFactory(community=community, email="kim@example.com", locale="ja")
    ParticipationFactory(survey=survey, member=noa)
    with django_capture_on_commit_callbacks(execute=True):
        batch = invitation_batch_create(survey=survey, community=community)
    batch.refresh_from_db()
    assert list(sent_to()) == ["kim@example.com"]
    assert SurveyInvitation.objects.get().language == "ja"
    assert batch.skipped == {SkipReason.ANSWERED: 1}


# --- the list itself ----------------------------------------------------------------------


def test_repeats_and_lines_that_are_not_addresses_are_counted_not_sent(
    survey, django_capture_on_commit_callbacks
):
    batch = send(
        survey,
        [
            ("a@example.com", ""),
            ("A@EXAMPLE.COM", "again"),
            ("not an address", ""),
            ("b@example.com", ""),
            ("", "no address"),
        ],
        django_capture_on_commit_callbacks,
    )
    assert sorted(sent_to()) == ["a@example.com", "b@example.com"]
    assert batch.skipped == {
        SkipReason.DUPLICATE: 1,
        SkipReason.INVALID: 2,
        "invalid_lines": [3, 5],
    }


def test_a_list_with_no_address_at_all_is_refused(staff_client, survey):
    page = staff_client.post(distribute_url(survey), {"recipients": "nobody\nnothing here"})
    assert page.status_code == 400
    assert "These lines are not email addresses: 1, 2." in page.content.decode()
    assert not InvitationBatch.objects.exists()


def test_an_oversized_list_is_refused(staff_client, survey, settings):
    settings.CHORUS = {**settings.CHORUS, "INVITATION_BATCH_MAX": 2}
    lines = "\n".join(f"p{n}@example.com" for n in range(3))
    page = staff_client.post(distribute_url(survey), {"recipients": lines})
    assert page.status_code == 400 and "at most 2 people" in page.content.decode()
    assert not InvitationBatch.objects.exists()


def test_a_re_run_after_a_crash_counts_nobody_twice(
    survey, community, django_capture_on_commit_callbacks
):
    # given: a send whose worker finished writing, then died before marking it done
    MemberFactory(community=community, email="gone@example.com", status="unsubscribed")
    batch = send(
        survey,
        [("a@example.com", ""), ("gone@example.com", "")],
        django_capture_on_commit_callbacks,
    )
    InvitationBatch.objects.filter(pk=batch.pk).update(status="sending")
    # when: the task runs again
    from surveys.services import invitation_batch_send

    with django_capture_on_commit_callbacks(execute=True):
        assert invitation_batch_send(batch_id=batch.pk) == 0
    # then: the address it already sent is not now "contacted too recently"
    batch.refresh_from_db()
    assert batch.skipped == {SkipReason.UNSUBSCRIBED: 1}
    assert len(mail.outbox) == 1


# --- what the pages say -------------------------------------------------------------------


def test_the_send_page_says_how_many_went_were_matched_and_were_skipped_why(
    staff_client, survey, community, django_capture_on_commit_callbacks
):
    # given
    MemberFactory(community=community, email="noa@example.com", locale="he")
    MemberFactory(community=community, email="gone@example.com", status="unsubscribed")
    lines = "noa@example.com\ngone@example.com\nguest@example.com, Guest\nnoa@example.com\noops"
    # when
    with django_capture_on_commit_callbacks(execute=True):
        page = staff_client.post(distribute_url(survey), {"recipients": lines})
    # then: the send's page
    assert page.status_code == 302
    detail = staff_client.get(page["Location"])
    html = detail.content.decode()
    assert detail.context["batch"].invited == 2 and detail.context["batch"].matched == 1
    assert [(code, count) for code, _label, count in detail.context["batch"].skips] == [
        ("unsubscribed", 1),
        ("duplicate", 1),
        ("invalid", 1),
    ]
    assert 'id="skip-unsubscribed">1<' in html and "Listed more than once" in html
    assert "Lines that are not email addresses: 5" in html
    # and the Distribute page's list of sends
    html = staff_client.get(distribute_url(survey)).content.decode()
    assert "2 sent · 1 matched to members · 3 skipped" in html


def test_skip_reasons_are_shown_in_the_staff_members_language(
    staff_client, survey, django_capture_on_commit_callbacks
):
    batch = InvitationBatchFactory(
        survey=survey, status="done", skipped={"answered": 2, "contact_limit": 1}
    )
    page = staff_client.get(
        reverse("staff:batch_detail", args=[survey.organisation.slug, batch.pk]),
        HTTP_ACCEPT_LANGUAGE="he",
    )
    html = page.content.decode()
    assert "כבר ענו על הסקר הזה" in html and "פנינו אליהם לאחרונה" in html
    assert "Already answered" not in html


def test_a_send_stored_before_reasons_were_told_apart_still_shows_its_unsubscribed():
    with translation.override("en"):
        assert skips_shown({"suppressed": 3}) == [("unsubscribed", "Unsubscribed or left", 3)]


def test_another_organisations_send_is_not_found(
    staff_client, other_organisation, django_capture_on_commit_callbacks
):
    from tests.factories.surveys import SurveyFactory

    foreign = InvitationBatchFactory(survey=SurveyFactory(organisation=other_organisation))
    url = reverse("staff:batch_detail", args=["demo-coffee", foreign.pk])
    assert staff_client.get(url).status_code == 404


# --- reminders ----------------------------------------------------------------------------


def reminder_due(survey, **fields) -> SurveyInvitation:
    return SurveyInvitationFactory(
        survey=survey,
        sent_at=timezone.now() - timedelta(days=survey.reminder_interval_days + 1),
        **fields,
    )


def test_no_reminder_to_a_member_who_answered_by_another_path(
    survey, community, django_capture_on_commit_callbacks
):
    # given: an invitation sent to her address before it was matched to her; she then
    # answered signed in, so this invitation was never used
    noa = MemberFactory(community=community, email="noa@example.com", locale="he")
    reminder_due(survey, email="noa@example.com")
    ParticipationFactory(survey=survey, member=noa)
    # when / then
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 0
    assert mail.outbox == []


def test_no_reminder_when_another_link_to_the_address_was_answered(
    survey, django_capture_on_commit_callbacks
):
    reminder_due(survey, email="guest@example.com")
    SurveyInvitationFactory(survey=survey, email="guest@example.com", responded_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 0


def test_no_reminder_to_a_member_who_left_the_community(
    survey, community, django_capture_on_commit_callbacks
):
    MemberFactory(community=community, email="kim@example.com", status="unsubscribed")
    reminder_due(survey, email="kim@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 0


def test_a_reminder_of_an_old_invitation_goes_in_the_members_language(
    survey, community, django_capture_on_commit_callbacks
):
    # given: an invitation written before addresses were matched: no member, no language
    noa = MemberFactory(community=community, email="noa@example.com", locale="he")
    invitation = reminder_due(survey, email="noa@example.com")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 1
    # then
    invitation.refresh_from_db()
    assert invitation.member == noa and invitation.language == "he"
    assert 'lang="he"' in mail.outbox[0].alternatives[0][0]


def test_the_distribute_page_costs_the_same_queries_for_one_send_or_many(
    staff_client, survey, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(distribute_url(survey)).status_code == 200
        return len(captured)

    send(survey, [("a@example.com", "")], django_capture_on_commit_callbacks)
    one = queries()
    for n in range(5):
        send(survey, [(f"p{n}@example.com", "")], django_capture_on_commit_callbacks)
    assert queries() == one


def test_another_organisations_community_cannot_be_sent_to(
    staff_client, survey, other_organisation
):
    foreign = CommunityFactory(organisation=other_organisation)
    MemberFactory(community=foreign, email="theirs@example.com")
    page = staff_client.post(distribute_url(survey), {"community": foreign.pk})
    assert page.status_code == 400 and not InvitationBatch.objects.exists()
