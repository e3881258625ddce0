"""An anonymous answer holds nothing that points back at the person who gave it."""

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from surveys.models import Participation, Response
from tests.factories.surveys import pool_release_now
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


def rows_mentioning(needle: str, tables: list[str]) -> list[tuple[str, tuple]]:
    """Every row of these tables with a column whose text contains `needle`."""
    found = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names are ours
            found += [
                (table, row)
                for row in cursor.fetchall()
                if any(needle in str(value) for value in row)
            ]
    return found


def test_database_scan_finds_no_personal_data_on_an_anonymous_response(
    member_client, survey, member, member_user
):
    # given
    survey.anonymity = "anonymous"
    survey.save()
    # when
    page = member_client.post(
        reverse("surveys:survey_respond", args=[survey.public_id]),
        {**answers_for(survey, nps=2, text="Slow service"), "consent_to_contact": "on"},
        HTTP_USER_AGENT="Mozilla/5.0 (Fingerprint-1234)",
        REMOTE_ADDR="203.0.113.77",
    )
    assert page.status_code == 302
    # then, once the answer is released from the pool
    pool_release_now(survey)
    response = Response.objects.get()
    assert response.member_id is None and response.invitation_id is None
    assert not response.consent_to_contact
    tables = [apps.get_model("surveys", m)._meta.db_table for m in ("Response", "Answer")]
    tables.append(
        Response.survey.field.model._meta.get_field("answers")
        .related_model._meta.get_field("choices")
        .remote_field.through._meta.db_table
    )
    for needle in (
        member.email,
        member_user.email,
        "203.0.113.77",
        "Fingerprint-1234",
        member.name,
    ):
        assert rows_mentioning(needle, tables) == []
    # and the only trace of the member is the participation, which holds no answer
    participation = Participation.objects.get()
    field_names = {f.name for f in Participation._meta.get_fields()}
    assert participation.member == member
    assert not field_names & {"response", "answers", "submitted_at"}


def test_respondent_choice_lets_a_member_stay_anonymous(member_client, survey, member):
    survey.anonymity = "respondent_choice"
    survey.save()
    page = member_client.get(reverse("surveys:survey_respond", args=[survey.public_id]))
    assert "Answer anonymously" in page.content.decode()
    member_client.post(
        reverse("surveys:survey_respond", args=[survey.public_id]),
        {**answers_for(survey), "answer_anonymously": "on"},
    )
    pool_release_now(survey)
    assert Response.objects.get().member_id is None


def test_identified_member_response_keeps_the_member(member_client, survey, member):
    member_client.post(
        reverse("surveys:survey_respond", args=[survey.public_id]), answers_for(survey)
    )
    assert Response.objects.get().member == member


def test_anonymous_survey_offers_no_contact_checkbox(client, survey):
    survey.anonymity = "anonymous"
    survey.save()
    page = client.get(reverse("surveys:survey_respond", args=[survey.public_id]))
    html = page.content.decode()
    assert "consent_to_contact" not in html
    assert "nothing that identifies you is stored" in html
