"""Personal email links: sent in batches by workers, opened without being used up,
answered once, reminded at most N times, and stopped by one-click unsubscribe."""

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone, translation

from communities.choices import MemberStatus
from communities.models import EmailSuppression
from communities.outbox.models import OutboundEmail
from surveys.choices import BatchStatus
from surveys.models import InvitationBatch, Response, SurveyInvitation
from surveys.services import (
    invitation_batch_create,
    invitation_batch_send,
    invitation_link_token,
    reminders_send,
)
from tests.factories.communities import MemberFactory
from tests.factories.surveys import SurveyInvitationFactory
from tests.surveys.helpers import answers_for, question_of

pytestmark = pytest.mark.django_db


def link(invitation, **query) -> str:
    url = reverse("surveys:invitation_open", args=[invitation_link_token(invitation=invitation)])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def survey_url(survey) -> str:
    return reverse("surveys:survey_respond", args=[survey.public_id])


@pytest.fixture
def invitation(survey):
    return SurveyInvitationFactory(
        survey=survey, email="guest@example.com", language="ja", sent_at=timezone.now()
    )


# --- sending ------------------------------------------------------------------------------


def test_a_pasted_list_is_sent_in_chunks_with_one_email_each(
    survey, staff_user, settings, django_capture_on_commit_callbacks
):
    # given
    settings.CHORUS = {**settings.CHORUS, "INVITATION_CHUNK": 2}
    people = [(f"Person{n}@Example.com", f"Person {n}") for n in range(5)]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        batch = invitation_batch_create(survey=survey, created_by=staff_user, recipients=people)
    # then
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE and batch.total == 5
    assert len(mail.outbox) == 5
    assert {m.to[0] for m in mail.outbox} == {f"person{n}@example.com" for n in range(5)}
    assert SurveyInvitation.objects.filter(sent_at__isnull=False).count() == 5


def test_running_a_batch_again_writes_and_sends_nothing_twice(
    survey, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        batch = invitation_batch_create(survey=survey, recipients=[("a@example.com", "")])
    # when: a worker died after the work and the task runs again
    InvitationBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SENDING)
    SurveyInvitation.objects.update(sent_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_send(batch_id=batch.pk)
    # then
    assert SurveyInvitation.objects.count() == 1
    assert OutboundEmail.objects.count() == 1 and len(mail.outbox) == 1


def test_a_community_send_skips_the_unsubscribed(
    survey, community, django_capture_on_commit_callbacks
):
    MemberFactory(community=community, email="yes@example.com")
    MemberFactory(community=community, email="no@example.com", status=MemberStatus.UNSUBSCRIBED)
    EmailSuppression.objects.create(organisation=survey.organisation, email="gone@example.com")
    MemberFactory(community=community, email="gone@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=survey, community=community)
    assert [m.to[0] for m in mail.outbox] == ["yes@example.com"]


def test_a_community_send_reaches_only_confirmed_members(
    survey, community, django_capture_on_commit_callbacks
):
    # given: a join whose double opt-in is not confirmed, and an invitation not yet accepted
    MemberFactory(community=community, email="pending@example.com", status=MemberStatus.PENDING)
    MemberFactory(community=community, email="invited@example.com", status=MemberStatus.INVITED)
    for status in (MemberStatus.NEW, MemberStatus.LAPSED, MemberStatus.CHURNED):
        MemberFactory(community=community, email=f"{status}@example.com", status=status)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=survey, community=community)
    # then
    assert sorted(m.to[0] for m in mail.outbox) == [
        "churned@example.com",
        "lapsed@example.com",
        "new@example.com",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"recipients": "not-an-email, Bob"}, "not email addresses: 1"),
        ({"recipients": ""}, "Choose a community or paste a list"),
        ({"recipients": "a@example.com", "community": "COMMUNITY"}, "not both"),
    ],
)
def test_the_send_form_rejects_bad_input_and_queues_nothing(
    staff_client, organisation, survey, community, data, message
):
    if data.get("community") == "COMMUNITY":
        data["community"] = community.pk
    url = reverse("staff:survey_distribute", args=[organisation.slug, survey.pk])
    page = staff_client.post(url, data)
    assert page.status_code == 400 and message in page.content.decode()
    assert not InvitationBatch.objects.exists()


def test_a_big_send_returns_at_once_and_the_page_shows_progress(
    staff_client, organisation, survey, django_capture_on_commit_callbacks
):
    url = reverse("staff:survey_distribute", args=[organisation.slug, survey.pk])
    lines = "\n".join(f"p{n}@example.com, P {n}" for n in range(300))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = staff_client.post(url, {"recipients": lines})
    # then: the request only stored the batch; the work waits for the worker
    assert page.status_code == 302 and len(callbacks) == 1
    assert not SurveyInvitation.objects.exists()
    batch_page = staff_client.get(page["Location"])
    assert batch_page.context["progress"]["written"] == 0


def test_a_poll_or_closed_survey_cannot_be_sent(survey):
    survey.status = "closed"
    survey.save()
    with pytest.raises(Exception, match="closed"):
        invitation_batch_create(survey=survey, recipients=[("a@example.com", "")])


# --- opening and answering ---------------------------------------------------------------


def test_opening_the_link_neither_answers_nor_uses_it_up(client, invitation):
    # when: a mail scanner opens the link twice
    for _ in range(2):
        opened = client.get(link(invitation))
        assert opened.status_code == 302
    # then
    invitation.refresh_from_db()
    assert invitation.opened_at is not None and invitation.responded_at is None
    assert not Response.objects.exists()
    # and the token is not in the survey page's address, and no Referer leaves the link
    assert invitation.token not in opened["Location"]
    assert opened["Referrer-Policy"] == "no-referrer"


def test_the_respondent_answers_once_through_the_link(client, invitation, survey):
    # given
    client.get(link(invitation))
    page = client.get(survey_url(survey))
    assert page.context["form"].fields.get("consent_to_contact") is not None
    # when
    sent = client.post(survey_url(survey), answers_for(survey))
    # then
    assert sent.status_code == 302
    response = Response.objects.get()
    assert response.invitation == invitation and response.language == "ja"
    invitation.refresh_from_db()
    assert invitation.responded_at is not None
    # when: the link is opened again
    again = client.get(link(invitation))
    # then
    assert again.status_code == 409
    assert "already answered" in again.content.decode()


def test_a_score_tapped_in_the_email_is_filled_in(client, invitation, survey):
    client.get(link(invitation, score=3))
    form = client.get(survey_url(survey)).context["form"]
    nps = question_of(survey, "nps")
    assert form.initial[f"q_{nps.pk}"] == 3


@pytest.mark.parametrize("score", ["11", "-1", "x"])
def test_a_bad_score_is_ignored(client, invitation, survey, score):
    client.get(link(invitation, score=score))
    form = client.get(survey_url(survey)).context["form"]
    assert f"q_{question_of(survey, 'nps').pk}" not in form.initial


def test_a_forged_link_gets_a_clear_page(client, invitation):
    forged = signing.TimestampSigner(salt="another-salt").sign(invitation.token)
    for bad in (forged, "nonsense", link(invitation).split("/")[2][:-3] + "abc"):
        page = client.get(reverse("surveys:invitation_open", args=[bad]))
        assert page.status_code == 400 and "not valid" in page.content.decode()


def test_an_expired_link_gets_a_clear_page(client, invitation, survey):
    survey.invitation_valid_days = 1
    survey.save()
    # A genuine signature made two days ago, with the salt links in inboxes were made with.
    signer = signing.TimestampSigner(salt="chorus.surveys.invitation")
    value, stamp, _sig = signer.sign(invitation.token).rsplit(":", 2)
    past = signing.b62_encode(signing.b62_decode(stamp) - 2 * 86400)
    expired = f"{value}:{past}:" + signer.signature(f"{value}:{past}")
    page = client.get(reverse("surveys:invitation_open", args=[expired]))
    assert page.status_code == 410 and "expired" in page.content.decode()


# --- reminders -------------------------------------------------------------------------------


def test_reminders_go_at_most_n_times_m_days_apart_and_never_after_an_answer(
    survey, django_capture_on_commit_callbacks
):
    # given
    survey.reminder_limit, survey.reminder_interval_days = 2, 3
    survey.save()
    now = timezone.now()
    waiting = SurveyInvitationFactory(survey=survey, sent_at=now - timedelta(days=4))
    answered = SurveyInvitationFactory(
        survey=survey, sent_at=now - timedelta(days=4), responded_at=now
    )
    fresh = SurveyInvitationFactory(survey=survey, sent_at=now - timedelta(days=1))
    # when / then
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send(now=now) == 1
        assert reminders_send(now=now) == 0  # too soon for another
        assert reminders_send(now=now + timedelta(days=3, minutes=1)) == 2  # waiting + fresh
        assert reminders_send(now=now + timedelta(days=6, minutes=2)) == 1  # fresh's second
        assert reminders_send(now=now + timedelta(days=30)) == 0  # limit reached
    waiting.refresh_from_db()
    assert waiting.reminder_count == 2
    assert answered.email not in {m.to[0] for m in mail.outbox}
    assert all("Reminder" in m.subject for m in mail.outbox)
    assert fresh.email in {m.to[0] for m in mail.outbox}


def test_no_reminder_to_someone_who_unsubscribed(survey, django_capture_on_commit_callbacks):
    sent = timezone.now() - timedelta(days=10)
    invitation = SurveyInvitationFactory(survey=survey, sent_at=sent)
    EmailSuppression.objects.create(organisation=survey.organisation, email=invitation.email)
    assert reminders_send() == 0


# --- unsubscribing ----------------------------------------------------------------------------


def test_one_click_unsubscribe_stops_survey_email(
    client, survey, community, django_capture_on_commit_callbacks
):
    # given
    member = MemberFactory(community=community, email="kim@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        invitation_batch_create(survey=survey, recipients=[("kim@example.com", "Kim")])
    email = mail.outbox[0]
    unsubscribe = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe.split("://", 1)[1].split("/", 1)[1]
    # when: a GET only asks; the mail client's POST unsubscribes (no CSRF token)
    assert client.get(f"/{path}").status_code == 200
    assert not EmailSuppression.objects.exists()
    assert client.post(f"/{path}", {"List-Unsubscribe": "One-Click"}).status_code == 200
    # then
    member.refresh_from_db()
    assert member.status == MemberStatus.UNSUBSCRIBED
    assert EmailSuppression.objects.filter(email="kim@example.com").exists()


def test_a_forged_unsubscribe_link_changes_nothing(client):
    page = client.post(reverse("surveys:unsubscribe", args=["forged"]))
    assert page.status_code == 400 and not EmailSuppression.objects.exists()


def test_a_second_device_with_the_same_link_cannot_answer_again(client, invitation, survey):
    from django.test import Client

    # given: the link opened on a phone and on a laptop
    laptop = Client()
    client.get(link(invitation))
    laptop.get(link(invitation))
    # when: the phone answers, then the laptop sends too
    assert client.post(survey_url(survey), answers_for(survey)).status_code == 302
    late = laptop.post(survey_url(survey), answers_for(survey))
    # then
    assert late.status_code == 409
    with translation.override("ja"):  # the invitation's language
        said = translation.gettext("This link has already been used to answer. Thank you!")
    assert said in late.content.decode()
    assert Response.objects.count() == 1


def test_a_used_invitation_refuses_a_racing_second_submit(survey, invitation):
    from surveys.services import AlreadyAnswered, response_submit

    data = answers_for(survey)
    data.pop("idempotency_key")
    response_submit(
        survey=survey, raw_answers=data, idempotency_key="a" * 32, invitation=invitation
    )
    # A request that read the invitation before the first committed still holds it unanswered.
    invitation.responded_at = None
    with pytest.raises(AlreadyAnswered):
        response_submit(
            survey=survey, raw_answers=data, idempotency_key="b" * 32, invitation=invitation
        )
    assert Response.objects.count() == 1


def test_opening_the_plain_link_clears_an_earlier_tapped_score(client, invitation, survey):
    client.get(link(invitation, score=2))
    client.get(link(invitation))
    form = client.get(survey_url(survey)).context["form"]
    assert f"q_{question_of(survey, 'nps').pk}" not in form.initial
