"""My data: the JSON export of everything held about a member, and erasure that leaves
nothing personal behind while answers stay in anonymous form."""

import json

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from communities.choices import ConsentPurpose, MemberStatus, Role
from communities.flows import member_erase, member_export
from communities.models import ConsentRecord, Member, User
from communities.outbox.models import OutboundEmail
from feedback.models import Case
from rewards.models import LedgerEntry
from rewards.selectors import member_balance
from surveys.choices import QuestionType
from surveys.models import Answer, Response, SurveyEvent, SurveyInvitation
from tests.factories.communities import (
    AttributeDefinitionFactory,
    CommunityFactory,
    ConsentRecordFactory,
    MemberFactory,
    MemberImportFactory,
    OutboundEmailFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.feedback import CaseFactory
from tests.factories.rewards import LedgerEntryFactory, RedemptionFactory
from tests.factories.surveys import (
    AnswerFactory,
    InvitationBatchFactory,
    ParticipationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyEventFactory,
    SurveyFactory,
    SurveyInvitationFactory,
)

pytestmark = pytest.mark.django_db

EMAIL = "zed.quinlan@example.com"
NAME = "Zed Quinlan"


def url(name: str, community) -> str:
    return reverse(f"community:{name}", args=[community.organisation.slug, community.slug])


@pytest.fixture
def person(community):
    """A member with a trace in every app: account, answers, points, a case, emails."""
    user = UserFactory(email=EMAIL, name=NAME)
    member = MemberFactory(community=community, user=user, email=EMAIL, name=NAME, phone="+66 1")
    AttributeDefinitionFactory(community=community, age_band=True)
    member.attributes = {"age_band": "25-34"}
    member.save()
    ConsentRecordFactory(member=member)
    organisation = community.organisation
    survey = SurveyFactory(organisation=organisation, community=community, title={"en": "Visit"})
    text = QuestionFactory(survey=survey, type=QuestionType.TEXT, text={"en": "Why?"})
    invitation = SurveyInvitationFactory(survey=survey, member=member, email=EMAIL, name=NAME)
    response = ResponseFactory(
        survey=survey, member=member, invitation=invitation, consent_to_contact=True
    )
    AnswerFactory(response=response, question=text, number=None, text="The coffee was cold.")
    anonymous = ResponseFactory(survey=survey, is_anonymous=True)
    AnswerFactory(response=anonymous, question=text, number=None, text="Anonymous words.")
    ParticipationFactory(survey=survey, member=member)
    LedgerEntryFactory(member=member, points=30, source=f"response:{response.pk}")
    RedemptionFactory(
        member=member, reward__cost=10, reward__organisation=organisation, status="fulfilled"
    )
    CaseFactory(response=response, reply_text=f"Thanks, {NAME} <{EMAIL}>", notes="Call back")
    SurveyEventFactory(organisation=organisation, email=EMAIL, name=NAME)
    InvitationBatchFactory(survey=survey, recipients=[[EMAIL, NAME], ["other@example.com", "O"]])
    MemberImportFactory(community=community, content=f"email,name\n{EMAIL},{NAME}\nx@example.com,X")
    OutboundEmailFactory(
        organisation=organisation,
        to_email=EMAIL,
        body_text=f"Hello {NAME}",
        status="sent",
        sent_at=timezone.now(),
    )
    OutboundEmailFactory(organisation=organisation, to_email=EMAIL, body_text=f"Dear {NAME}")
    return member


@pytest.fixture
def person_client(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def every_row_mentioning(*needles: str) -> list[str]:
    """Every table, every row, as text (sessions decoded), that contains a needle."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - our own table names
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row).lower()
                if any(n.lower() in text for n in needles):
                    found.append(f"{table}: {row}")
    for session in Session.objects.all():
        decoded = json.dumps(SessionStore().decode(session.session_data)).lower()
        if any(n.lower() in decoded for n in needles):
            found.append(f"session: {decoded}")
    return found


# --- export ---------------------------------------------------------------------------------


def test_export_is_a_dated_json_attachment_with_everything_linked_to_me(
    person_client, person, community, django_assert_max_num_queries
):
    # when
    with django_assert_max_num_queries(30):
        page = person_client.get(url("export", community))
    # then
    assert page.status_code == 200 and page["Content-Type"] == "application/json"
    assert page["Content-Disposition"].startswith(
        f'attachment; filename="{community.slug}-my-data-'
    )
    assert page["Cache-Control"] == "no-store"
    data = json.loads(page.content)
    assert data["member"]["email"] == EMAIL and data["member"]["name"] == NAME
    assert data["attributes"] == {"age_band": {"label": "Age band", "value": "25-34"}}
    assert [c["purpose"] for c in data["consents"]] == [ConsentPurpose.COMMUNITY_TERMS]
    assert data["consents"][0]["policy_version"] == 1
    (response,) = data["responses"]
    assert response["survey"] == "Visit"
    assert response["answers"][0]["text"] == "The coffee was cold."
    assert data["points"]["balance"] == 30 and len(data["points"]["ledger"]) == 1
    assert data["redemptions"][0]["points"] == 10
    assert data["cases"][0]["your_reply"].startswith("Thanks")
    assert "notes" not in data["cases"][0]
    assert len(data["survey_invitations"]) == 1 and len(data["participations"]) == 1
    assert {e["status"] for e in data["emails"]} == {"sent", "pending"}


def test_export_never_includes_anonymous_answers(person):
    text = json.dumps(member_export(member=person))
    assert "Anonymous words." not in text


def test_export_holds_only_my_community(person, organisation):
    other = MemberFactory(community=CommunityFactory(organisation=organisation), email=EMAIL)
    data = member_export(member=other)
    assert data["responses"] == [] and data["points"]["balance"] == 0


def test_my_data_page_offers_download_and_erase(person_client, community):
    page = person_client.get(url("my_data", community))
    html = page.content.decode()
    assert page.status_code == 200
    assert url("export", community) in html and url("erase", community) in html
    assert "ERASE" in html


# --- erase -----------------------------------------------------------------------------------


def test_erase_needs_the_word_or_the_address(person_client, person, community):
    for typed in ("", "erase me", "x" * 300, "other@example.com"):
        page = person_client.post(url("erase", community), {"confirmation": typed})
        assert page.status_code == 400
    person.refresh_from_db()
    assert person.status == MemberStatus.ACTIVE and person.email == EMAIL


def test_erase_is_post_only(person_client, community):
    assert person_client.get(url("erase", community)).status_code == 405


def test_erase_removes_everything_personal_and_signs_out(person_client, person, community):
    # given
    response = Response.objects.get(member=person)
    before = member_balance(member=person)
    assert len(every_row_mentioning(EMAIL, NAME, "+66 1")) >= 10  # the search finds them
    # when
    page = person_client.post(url("erase", community), {"confirmation": "erase"})
    # then: signed out, on a clear page
    assert page.status_code == 200 and "Your data is erased" in page.content.decode()
    assert "_auth_user_id" not in person_client.session
    # nothing anywhere names the person
    assert every_row_mentioning(EMAIL, NAME, "+66 1") == []
    # the member row is the erased marker
    person.refresh_from_db()
    assert person.status == MemberStatus.ERASED and person.erased_at
    assert (person.email, person.name, person.phone, person.attributes) == ("", "", "", {})
    assert person.user_id is None and not User.objects.filter(email=EMAIL).exists()
    # the answers stay, anonymous
    response.refresh_from_db()
    assert response.is_anonymous and response.member_id is None
    assert response.invitation_id is None and response.consent_to_contact is False
    assert Answer.objects.filter(response=response, text="The coffee was cold.").exists()
    # the ledger and consent history stay against the marker
    assert member_balance(member=person) == before
    assert LedgerEntry.objects.filter(member=person).count() == 1
    assert ConsentRecord.objects.filter(member=person).count() == 1
    # the case keeps its workflow, not the contact details
    case = Case.objects.get()
    assert case.notes == "Call back" and "[erased]" in case.reply_text
    # unsent email is cancelled, sent email scrubbed
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent", "failed"}
    assert not OutboundEmail.objects.exclude(to_email="").exists()
    # invitations and events keep their history without the address
    assert SurveyInvitation.objects.get().member_id == person.pk
    assert SurveyEvent.objects.get().email == ""


def test_erase_by_typing_the_email_address(person_client, person, community):
    page = person_client.post(url("erase", community), {"confirmation": EMAIL.upper()})
    assert page.status_code == 200
    person.refresh_from_db()
    assert person.is_erased


def test_erase_keeps_a_staff_account_and_only_unlinks_it(person, organisation):
    # given: the person is also staff
    user = person.user
    StaffRoleFactory(user=user, organisation=organisation, role=Role.ANALYST)
    # when
    member_erase(member=person)
    # then
    user.refresh_from_db()
    assert user.email == EMAIL and not user.memberships.exists()


def test_erase_keeps_an_account_with_another_membership(person, organisation):
    user = person.user
    MemberFactory(community=CommunityFactory(organisation=organisation), user=user, email=EMAIL)
    member_erase(member=person)
    assert User.objects.filter(pk=user.pk).exists()
    assert Member.objects.filter(user=user).count() == 1


def test_erase_twice_is_harmless(person):
    member_erase(member=person)
    member_erase(member=Member.objects.get(pk=person.pk))
    assert Member.objects.get(pk=person.pk).is_erased


def test_erase_leaves_other_peoples_data_alone(person, community):
    # given
    other = MemberFactory(community=community, email="other@example.com", name="Olga Other")
    invitation = SurveyInvitationFactory(
        survey=Response.objects.get(member=person).survey, email="other@example.com"
    )
    # when
    member_erase(member=person)
    # then
    other.refresh_from_db()
    invitation.refresh_from_db()
    assert other.email == "other@example.com" and invitation.email == "other@example.com"
    from surveys.models import InvitationBatch

    assert InvitationBatch.objects.get().recipients == [["other@example.com", "O"]]


def test_an_erased_member_can_no_longer_sign_in_to_the_portal(person_client, person, community):
    person_client.post(url("erase", community), {"confirmation": "ERASE"})
    page = person_client.get(url("profile", community))
    assert page.status_code == 302 and "/accounts/login/code/" in page["Location"]
