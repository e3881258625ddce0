"""URLs, clients and held redemptions the staff redemption tests share."""

from django.urls import reverse

from rewards.choices import LedgerReason
from tests.factories.communities import StaffRoleFactory
from tests.factories.rewards import LedgerEntryFactory, RedemptionFactory


def staff(name, organisation, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


def client_as(client, organisation, role):
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    return client


def held(redemption):
    """The redemption as the service leaves it: its points held by a ledger entry."""
    LedgerEntryFactory(
        member=redemption.member,
        points=-redemption.points,
        reason=LedgerReason.REDEMPTION_HOLD,
        source=f"rewards.redemption:{redemption.pk}",
        idempotency_key=f"redemption:{redemption.pk}:hold",
    )
    return redemption


def requested(community, **kwargs):
    return held(RedemptionFactory(member__community=community, **kwargs))


def shown(response) -> str:
    return response.content.decode()
