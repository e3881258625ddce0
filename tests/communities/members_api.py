"""URLs and payloads the members API tests share."""

from django.urls import reverse
from django.utils import timezone

from communities.choices import MemberStatus
from tests.factories.communities import MemberFactory


def members_url(organisation, community):
    return reverse("api:community_member_list", args=[organisation.slug, community.pk])


def member_url(organisation, member):
    return reverse("api:member_detail", args=[organisation.slug, member.pk])


def invite_url(organisation, community):
    return reverse("api:community_member_invite", args=[organisation.slug, community.pk])


def new_member(**overrides):
    return {"email": "Kim@Example.com", "name": "Kim", "locale": "th", "consent": True, **overrides}


def erased_member(community):
    return MemberFactory(
        community=community,
        status=MemberStatus.ERASED,
        email="",
        name="",
        referral_code="",
        erased_at=timezone.now(),
    )


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]
