"""A lookup compiled once per process finds what the ORM finds, related rows included."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys.lookups import kiosk_by_token, survey_by_public_id, survey_member
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
    MemberFactory(user=member_user, community__organisation=other_organisation)
    found = survey_member(survey=survey, user_id=member_user.pk)
    assert found == member and found.community == survey.community
    assert survey_member(survey=survey, user_id=UserFactory().pk) is None
    survey.community = None
    assert survey_member(survey=survey, user_id=member_user.pk) == member
