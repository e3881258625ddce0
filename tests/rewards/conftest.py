"""Fixtures the rewards tests share; plain helpers live in portal_helpers.py and
api_helpers.py."""

import pytest

from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.rewards import RewardFactory


@pytest.fixture
def staff(organisation):
    """An admin of the organisation, to decide members' redemptions."""
    user = UserFactory()
    StaffRoleFactory(user=user, organisation=organisation, role="admin")
    return user


@pytest.fixture
def reward(organisation, community):
    """A reward of this community: 100 points, five in stock."""
    return RewardFactory(organisation=organisation, community=community, cost=100, stock=5)
