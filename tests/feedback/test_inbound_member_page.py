"""A member's staff page shows why email no longer reaches them: an unsubscribe, a hard
bounce or a spam complaint, each for this organisation only."""

import pytest
from django.test import Client
from django.urls import reverse

from communities.choices import Role
from communities.models import EmailSuppression
from tests.factories.communities import (
    EmailSuppressionFactory,
    MemberFactory,
    OrganisationFactory,
    StaffRoleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return MemberFactory(email="kim@example.com")


def _page(member) -> str:
    staff = StaffRoleFactory(organisation=member.organisation, role=Role.ANALYST).user
    client = Client()
    client.force_login(staff)
    url = reverse("staff:member_detail", args=[member.organisation.slug, member.pk])
    page = client.get(url)
    assert page.status_code == 200
    return page.content.decode()


def test_member_page_shows_a_hard_bounce_with_its_status(member):
    # given
    EmailSuppressionFactory(
        organisation=member.organisation,
        email="kim@example.com",
        reason=EmailSuppression.Reason.HARD_BOUNCE,
        source=EmailSuppression.Source.DSN,
        detail="5.1.1",
    )
    # when
    html = _page(member)
    # then
    assert "Hard bounce" in html
    assert "Delivery-status notification" in html
    assert "5.1.1" in html


def test_member_page_shows_a_complaint(member):
    EmailSuppressionFactory(
        organisation=member.organisation,
        email="kim@example.com",
        reason=EmailSuppression.Reason.COMPLAINT,
        source=EmailSuppression.Source.ARF,
        detail="abuse",
    )
    assert "Spam complaint" in _page(member)


def test_member_page_ignores_another_organisations_suppression(member):
    # given: the same address bounced for another organisation
    EmailSuppressionFactory(
        organisation=OrganisationFactory(),
        email="kim@example.com",
        reason=EmailSuppression.Reason.HARD_BOUNCE,
    )
    # then
    html = _page(member)
    assert "Hard bounce" not in html
    assert "no unsubscribe, bounce or complaint" in html
