"""The respondent paths' lookups by a unique key, compiled once per process.

Every answer starts by finding its survey (by public link), kiosk (by device token) or the
signed-in member answering it; through the ORM each costs more to compile than to run.
These run the same queries, select_related included (config.sql.PreparedQuery).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import NamedTuple

from django.db.models import Exists, FilteredRelation, OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull

from communities.models import Member
from config.sql import PreparedQuery
from surveys.choices import ChannelKind
from surveys.models import Channel, Participation, Survey


# With the community's rewards policy: a poll without points of its own earns its poll
# points (surveys.services.responses.survey_points_earned), read here in the same query.
def _survey_query(public_id: str) -> QuerySet:
    return Survey.objects.select_related(
        "organisation", "community", "community__rewards_policy"
    ).filter(public_id=public_id)


def _with_answerer(queryset: QuerySet, user_id: int) -> QuerySet:
    """The survey joined to the user's membership that answers it, as `answerer`: the
    earliest of the user's memberships in the survey's organisation, in its community when
    it has one. One statement where a signed-in page read the survey, then the member."""
    # Written so the database finds the user's few memberships by user first: a condition
    # on the organisation that every membership shares led SQLite (and PostgreSQL before
    # it has statistics) through every member of the organisation. A community belongs to
    # one organisation, so only a survey of no community names the organisation.
    earliest = (
        Member.objects.filter(user_id=user_id)
        .filter(
            Q(community_id=OuterRef("community_id"))
            | (
                Q(IsNull(OuterRef("community_id"), True))
                & Q(organisation_id=OuterRef("organisation_id"))
            )
        )
        .order_by("pk")
        .values("pk")[:1]
    )
    return queryset.annotate(
        answerer=FilteredRelation(
            "organisation__members", condition=Q(organisation__members__pk=Subquery(earliest))
        )
    ).select_related("answerer", "answerer__community", "answerer__location")


_survey = PreparedQuery(_survey_query, ("str",))
_survey_answerer = PreparedQuery(
    lambda public_id, user_id: _with_answerer(_survey_query(public_id), user_id),
    ("str", "int"),
)
# With whether the answerer has taken part already: the page asks before showing a form.
_survey_answerer_answered = PreparedQuery(
    lambda public_id, user_id: _with_answerer(_survey_query(public_id), user_id).annotate(
        answerer_took_part=Exists(
            Participation.objects.filter(survey_id=OuterRef("pk"), member_id=OuterRef("answerer"))
        )
    ),
    ("str", "int"),
)
_kiosk = PreparedQuery(
    lambda token: Channel.objects.select_related(
        "survey", "survey__organisation", "location"
    ).filter(kind=ChannelKind.KIOSK, device_token=token),
    ("str",),
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


class KioskCurrent(NamedTuple):
    """A kiosk as a process last read it: what its channel, survey and organisation rows
    said (their updated_at, the survey's revision). A submit made with that copy writes
    only while all still say so (response_with_answers_insert's `current`)."""

    channel_id: int
    channel_updated_at: datetime
    # Moved by a deleted store (SET NULL) without touching updated_at.
    location_id: int | None
    survey_id: int
    survey_updated_at: datetime
    survey_revision: int
    survey_status: str
    organisation_updated_at: datetime


# Kiosks whose answers this process has taken, by device token: a store's tablets answer
# all day, and each answer would otherwise start by reading its kiosk again.
KIOSKS_KEPT = 1024
_kiosks: OrderedDict[str, Channel] = OrderedDict()
_kiosks_lock = threading.Lock()


def kiosk_version(channel: Channel) -> KioskCurrent:
    """What a submit made with this copy of the kiosk must still find in the database."""
    survey = channel.survey
    return KioskCurrent(
        channel_id=channel.pk,
        channel_updated_at=channel.updated_at,
        location_id=channel.location_id,
        survey_id=survey.pk,
        survey_updated_at=survey.updated_at,
        survey_revision=survey.revision,
        survey_status=survey.status,
        organisation_updated_at=survey.organisation.updated_at,
    )


def kiosk_kept(device_token: str) -> tuple[Channel | None, KioskCurrent | None]:
    """The kiosk of a device token, for its answers: this process's copy with the version
    a submit made with it must still find (the submit writes only then: see
    surveys.services.responses.StaleCopy); else a fresh read, kept when the kiosk is on,
    and no version (nothing to check)."""
    with _kiosks_lock:
        channel = _kiosks.get(device_token)
        if channel is not None:
            _kiosks.move_to_end(device_token)
    if channel is not None:
        return channel, kiosk_version(channel)
    channel = kiosk_by_token(device_token)
    if channel is not None and channel.active:
        with _kiosks_lock:
            _kiosks[device_token] = channel
            while len(_kiosks) > KIOSKS_KEPT:
                _kiosks.popitem(last=False)
    return channel, None


def kiosk_forget(device_token: str | None = None) -> None:
    """Drop this process's copy of a kiosk (of every kiosk: None)."""
    with _kiosks_lock:
        if device_token is None:
            _kiosks.clear()
        else:
            _kiosks.pop(device_token, None)


def survey_answering(
    public_id: str, *, user_id: int | None, took_part: bool = False
) -> tuple[Survey | None, Member | None, bool]:
    """The survey of a public link (as survey_by_public_id) with, for a signed-in user, the
    membership that answers it and, when `took_part`, whether that member has answered it:
    (survey, member or None, answered). One statement."""
    if user_id is None:
        return _survey.first(public_id), None, False
    query = _survey_answerer_answered if took_part else _survey_answerer
    survey = query.first(public_id, user_id)
    if survey is None:
        return None, None, False
    # Django sets the joined membership only when there is one.
    member = getattr(survey, "answerer", None)
    return survey, member, bool(member is not None and getattr(survey, "answerer_took_part", False))
