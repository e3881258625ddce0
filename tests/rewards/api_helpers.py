"""URLs, clients, rewards and redemptions the rewards API tests share."""

from django.urls import reverse
from rest_framework.test import APIClient

from rewards.choices import LedgerReason
from rewards.services import points_award, redemption_request
from tests.factories.communities import MemberFactory, StaffRoleFactory


def url(name, organisation, *pk):
    return reverse(f"api:{name}", args=[organisation.slug, *pk])


def ids(answer) -> list[int]:
    return [row["id"] for row in answer.json()["results"]]


def role_client(organisation, role) -> APIClient:
    client = APIClient()
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    return client


def rich_member(community, points=1000):
    """A member with points to spend."""
    member = MemberFactory(community=community)
    points_award(
        member=member,
        points=points,
        reason=LedgerReason.ADJUSTMENT,
        source="test",
        idempotency_key=f"test-grant:{member.pk}",
    )
    return member


def requested(reward, address=""):
    """A redemption made the way a member makes one: points held, stock or code taken."""
    member = rich_member(reward.community)
    return redemption_request(member=member, reward=reward, shipping_address=address)
