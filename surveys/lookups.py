"""The respondent paths' lookups by a unique key, compiled once per process.

Every answer starts by finding its survey (by public link), kiosk (by device token) or the
signed-in member answering it; through the ORM each costs more to compile than to run.
These run the same queries, select_related included (config.sql.PreparedQuery).
"""

from __future__ import annotations

from communities.models import Member
from config.sql import PreparedQuery
from surveys.choices import ChannelKind
from surveys.models import Channel, Participation, Survey

# With the community's rewards policy: a poll without points of its own earns its poll
# points (surveys.services.responses.survey_points_earned), read here in the same query.
_survey = PreparedQuery(
    lambda public_id: Survey.objects.select_related(
        "organisation", "community", "community__rewards_policy"
    ).filter(public_id=public_id),
    ("str",),
)
_kiosk = PreparedQuery(
    lambda token: Channel.objects.select_related(
        "survey", "survey__organisation", "location"
    ).filter(kind=ChannelKind.KIOSK, device_token=token),
    ("str",),
)
# The earliest membership, as first() picks it.
_member = PreparedQuery(
    lambda organisation_id, user_id: (
        Member.objects.select_related("community", "location")
        .filter(organisation_id=organisation_id, user_id=user_id)
        .order_by("pk")[:1]
    ),
    ("int", "int"),
)
_community_member = PreparedQuery(
    lambda organisation_id, user_id, community_id: (
        Member.objects.select_related("community", "location")
        .filter(organisation_id=organisation_id, user_id=user_id, community_id=community_id)
        .order_by("pk")[:1]
    ),
    ("int", "int", "int"),
)


_participation = PreparedQuery(
    lambda survey_id, member_id: Participation.objects.filter(
        survey_id=survey_id, member_id=member_id
    )[:1],
    ("int", "int"),
)


def member_took_part(*, survey_id: int, member_id: int) -> bool:
    """Whether the member has answered the survey (their participation exists)."""
    return _participation.first(survey_id, member_id) is not None


def survey_by_public_id(public_id: str) -> Survey | None:
    """The survey of a public link, with its organisation, community and the community's
    rewards policy (None when it has none)."""
    return _survey.first(public_id)


def kiosk_by_token(device_token: str) -> Channel | None:
    """The kiosk channel of a device token, with its survey, organisation and store."""
    return _kiosk.first(device_token)


def survey_member(*, survey: Survey, user_id: int) -> Member | None:
    """The user's membership that answers `survey` (its community's, when it has one)."""
    if survey.community_id:
        return _community_member.first(survey.organisation_id, user_id, survey.community_id)
    return _member.first(survey.organisation_id, user_id)
