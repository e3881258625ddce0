"""URLs, points and rewards the member portal's rewards tests share."""

import re

from django.test import Client
from django.urls import reverse

from rewards.models import LedgerEntry, Reward
from tests.factories.rewards import LedgerEntryFactory, RewardFactory

PAGES = ("rewards", "redemptions", "points_history")


def url(name: str, community, *args) -> str:
    return reverse(f"community:{name}", args=[community.organisation.slug, community.slug, *args])


def home(community) -> str:
    return reverse("surveys:community_home", args=[community.organisation.slug, community.slug])


def give(member, points: int, **kwargs) -> LedgerEntry:
    return LedgerEntryFactory(member=member, points=points, **kwargs)


def reward_for(community, **kwargs) -> Reward:
    return RewardFactory(organisation=community.organisation, community=community, **kwargs)


def token(page) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', page.content.decode()).group(1)


def client_of(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client
