"""A lookup compiled once per process finds what the ORM finds, related rows included;
sessions read that way live exactly as long as Django's."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.sessions import SessionStore
from surveys.lookups import (
    kiosk_by_token,
    member_took_part,
    survey_answering,
    survey_by_public_id,
)
from surveys.models import Participation, Survey
from surveys.services import kiosk_register
from tests.factories.communities import LocationFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_survey_is_found_by_its_link_with_organisation_and_community(survey):
    for _ in range(2):  # compiled on the first call, reused on the second
        with CaptureQueriesContext(connection) as queries:
            found = survey_by_public_id(survey.public_id)
            assert (found.organisation.name, found.community.slug) == (
                survey.organisation.name,
                survey.community.slug,
            )
        assert found == survey and found.title == survey.title
        assert found.updated_at == survey.updated_at and len(queries) == 1
    assert survey_by_public_id("no-such-link") is None


def test_a_kiosk_is_found_by_its_token_and_only_a_kiosk(survey):
    kiosk = kiosk_register(
        survey=survey, location=LocationFactory(organisation=survey.organisation)
    )
    found = kiosk_by_token(kiosk.device_token)
    assert found == kiosk and found.survey == survey and found.location == kiosk.location
    assert found.survey.organisation == survey.organisation
    assert kiosk_by_token("x" + kiosk.device_token) is None


def test_the_member_answering_is_the_users_earliest_membership_of_the_community(
    survey, member, member_user, other_organisation
):
    # given: the user is also a member in another organisation, and of another community
    # of the survey's organisation (joined later)
    MemberFactory(user=member_user, community__organisation=other_organisation)
    later = MemberFactory(user=member_user, community__organisation=survey.organisation)

    def answering(public_id=survey.public_id, user_id=member_user.pk):
        return survey_answering(public_id, user_id=user_id)[:2]

    found, by = answering()
    assert (found, by) == (survey, member) and by.community == survey.community
    assert answering(user_id=UserFactory().pk) == (survey, None)
    assert answering(public_id="no-such-link") == (None, None)
    # a survey of no community is answered by the earliest membership in its organisation
    Survey.objects.filter(pk=survey.pk).update(community=None)
    assert answering()[1] == member
    member.delete()
    assert answering()[1] == later
    # a visitor reads the survey alone
    assert survey_answering(survey.public_id, user_id=None) == (survey, None, False)


def test_a_session_loads_while_it_lives_and_not_after(client, member_user):
    client.force_login(member_user)
    key = client.cookies["sessionid"].value
    assert SessionStore(key).get("_auth_user_id") == str(member_user.pk)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now())
    store = SessionStore(key)
    assert store.get("_auth_user_id") is None and store.session_key is None
    assert SessionStore("no-such-key").load() == {}


def test_taking_part_is_the_members_participation_in_that_survey(survey, member):
    assert member_took_part(survey_id=survey.pk, member_id=member.pk) is False
    Participation.objects.create(organisation=survey.organisation, survey=survey, member=member)
    assert member_took_part(survey_id=survey.pk, member_id=member.pk) is True
    assert member_took_part(survey_id=survey.pk + 1, member_id=member.pk) is False


def test_a_values_query_reads_one_row_as_the_orms_values_would(survey):
    from config.sql import PreparedQuery

    query = PreparedQuery(
        lambda public_id: Survey.objects.filter(public_id=public_id).values(
            "title", "organisation__name", "updated_at"
        ),
        ("str",),
    )
    for _ in range(2):  # compiled on the first call, reused on the second
        found = query.values_first(survey.public_id)
        assert (
            found
            == Survey.objects.filter(pk=survey.pk)
            .values("title", "organisation__name", "updated_at")
            .get()
        )
    assert query.values_first("no-such-link") is None


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan, read without stats")
def test_the_member_answering_is_found_through_the_user_not_the_organisations_members(
    survey, member_user
):
    # A condition on the organisation alone led SQLite through every member of it (5 ms
    # at 20,000 members); the user's own index finds their few memberships.
    from surveys.lookups import _survey_answerer

    survey_answering(survey.public_id, user_id=member_user.pk)  # compiled
    sql, params, positions = _survey_answerer._compiled[:3]
    values = (survey.public_id, member_user.pk)
    bound = [p if n is None else values[n] for p, n in zip(params, positions, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", bound)
        plan = [row[-1] for row in cursor.fetchall()]
    members = [step for step in plan if step.startswith("SEARCH U0 ")]
    assert members and all("(user_id=?)" in step for step in members), plan
