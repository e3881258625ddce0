"""Who a survey email may go to, and why not: one screen for every channel that sends
survey invitations (staff sends, API events, reminders).

An address is matched, case-insensitively, to a member of the survey's community (or, for
a survey of the whole organisation, to the organisation's member: a current one before a
lapsed one, the most recently active first). A matched person gets the email in their
own language, and is skipped when they

- unsubscribed, left the community or were erased, or the address is suppressed
  (`unsubscribed`);
- never agreed to hear from the community, or withdrew that agreement: a join not yet
  confirmed, an invitation to join not yet accepted, the community terms withdrawn
  (`no_consent`) — the same people a send to the whole community leaves out;
- already answered the survey (`answered`): took part as a member, or answered a personal
  link sent to the address;
- were contacted within the organisation's contact limit (`contact_limit`, read from
  communities.outbox.contacts).

An address that matches nobody is sent to as before, within the same suppressions,
answered check and contact limit. The reasons are stored as codes (`SkipReason`) and
translated where they are shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from communities.choices import ConsentPurpose, MemberStatus
from communities.models import ConsentRecord, EmailSuppression, Member
from communities.outbox.contacts import contacts_limited
from communities.services import MEMBER_CURRENT_STATUSES
from surveys.models import InvitationBatch, Participation, Survey, SurveyInvitation


class SkipReason(models.TextChoices):
    """Why an address was not sent a survey email (stored in InvitationBatch.skipped)."""

    ANSWERED = "answered", _("Already answered this survey")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed or left")
    NO_CONSENT = "no_consent", _("Not agreed to hear from the community")
    CONTACT_LIMIT = "contact_limit", _("Contacted too recently")
    DUPLICATE = "duplicate", _("Listed more than once")
    INVALID = "invalid", _("Not an email address")


class Purpose(Enum):
    """What the email is; each channel is screened by the same rules, as this says."""

    # A staff send: a new invitation, under the contact limit; someone who answered is
    # skipped unless the survey takes more than one answer per person.
    SEND = "send"
    # An API event: as a staff send, except that an earlier answer through a personal
    # link does not count: each event (a ticket, an order) is a new experience to ask
    # about. A member's participation does, when the survey takes one answer: their link
    # would only say "already answered".
    EVENT = "event"
    # A reminder of an invitation already sent: exempt from the contact limit (the
    # invitation was counted), and never to anyone who answered, by whatever path.
    REMINDER = "reminder"


@dataclass(frozen=True)
class Person:
    """Someone a survey email is meant for, as the channel knows them."""

    email: str
    name: str = ""
    member_id: int | None = None
    language: str = ""


@dataclass(frozen=True)
class Screened(Person):
    """A person after the screen: the member they matched, their language, and the reason
    they are skipped ("" to send)."""

    skip: str = ""


_NEVER = datetime.min.replace(tzinfo=UTC)


def _best(members: list[Member], survey: Survey) -> Member | None:
    """The membership that speaks for an address: the survey's community first, then a
    current member, then the most recently active."""
    if not members:
        return None
    return max(
        members,
        key=lambda m: (
            m.community_id == survey.community_id,
            m.status in MEMBER_CURRENT_STATUSES,
            m.last_active_at or m.joined_at or _NEVER,
            m.pk,
        ),
    )


def _member_skip(member: Member, terms_withdrawn: set[int]) -> str:
    if member.status in (MemberStatus.UNSUBSCRIBED, MemberStatus.ERASED):
        return SkipReason.UNSUBSCRIBED
    if member.status not in MEMBER_CURRENT_STATUSES or member.pk in terms_withdrawn:
        return SkipReason.NO_CONSENT
    return ""


def _terms_withdrawn(member_ids: set[int]) -> set[int]:
    """Members whose latest decision on the community terms is a withdrawal."""
    latest: dict[int, bool] = {}
    for member_id, granted in (
        ConsentRecord.objects.filter(
            member_id__in=member_ids, purpose=ConsentPurpose.COMMUNITY_TERMS
        )
        .order_by("member_id", "recorded_at", "pk")
        .values_list("member_id", "granted")
    ):
        latest[member_id] = granted
    return {member_id for member_id, granted in latest.items() if not granted}


def recipients_screen(
    *,
    survey: Survey,
    people: list[Person],
    purpose: Purpose,
    now: datetime | None = None,
) -> list[Screened]:
    """Match each person to a member and decide whether they may be sent the survey.

    A fixed number of queries whatever the number of people (a batch screens a chunk
    at once). Addresses must be lower-cased already; the result keeps the input order.
    """
    organisation = survey.organisation
    emails = sorted({p.email for p in people if p.email})
    given_ids = {p.member_id for p in people if p.member_id}
    # Addresses are stored lower-cased; the comparison does not rely on it (the unique
    # index is on the lower-cased address, so this is also what it serves).
    matching = Q(email_lower__in=emails)
    if survey.community_id is not None:
        matching &= Q(community_id=survey.community_id)
    members = list(
        Member.objects.for_organisation(organisation.pk)
        .annotate(email_lower=Lower("email"))
        .filter(matching | Q(pk__in=given_ids))
        .only(
            "pk",
            "community_id",
            "email",
            "name",
            "locale",
            "status",
            "last_active_at",
            "joined_at",
        )
    )
    by_id = {m.pk: m for m in members}
    by_email: dict[str, list[Member]] = defaultdict(list)
    for member in members:
        if member.email:
            by_email[member.email.lower()].append(member)
    chosen = {
        p.email: by_id.get(p.member_id) if p.member_id else _best(by_email[p.email], survey)
        for p in people
    }
    withdrawn = _terms_withdrawn({m.pk for m in chosen.values() if m is not None})
    suppressed = set(
        EmailSuppression.objects.for_organisation(organisation.pk)
        .filter(email__in=emails)
        .values_list("email", flat=True)
    )
    # Every membership of the address counts as the person (a member of two communities
    # answering an organisation-wide survey is one person).
    memberships: dict[int, str] = {m.pk: email for email, ms in by_email.items() for m in ms}
    memberships.update({m.pk: email for email, m in chosen.items() if m is not None})
    answered = _answered(survey=survey, purpose=purpose, emails=emails, memberships=memberships)
    limited = (
        {}
        if purpose is Purpose.REMINDER
        else contacts_limited(organisation=organisation, emails=emails, now=now)
    )
    screened = []
    for person in people:
        member = chosen[person.email]
        skip = ""
        if person.email in suppressed:
            skip = SkipReason.UNSUBSCRIBED
        elif member is not None and _member_skip(member, withdrawn):
            skip = _member_skip(member, withdrawn)
        elif person.email in answered:
            skip = SkipReason.ANSWERED
        elif person.email in limited:
            skip = SkipReason.CONTACT_LIMIT
        screened.append(
            Screened(
                email=person.email,
                # The member's own name and language, unless the sender gave them.
                name=person.name or (member.name if member else ""),
                member_id=member.pk if member else None,
                language=person.language or (member.locale if member else ""),
                skip=str(skip),
            )
        )
    return screened


def _answered(
    *, survey: Survey, purpose: Purpose, emails: list[str], memberships: dict[int, str]
) -> set[str]:
    """Addresses that answered the survey: as a member (a Participation, which an
    anonymous answer leaves too), or through a personal link sent to the address."""
    if purpose is not Purpose.REMINDER and survey.allow_multiple_responses:
        return set()
    found = {
        memberships[member_id]
        for member_id in Participation.objects.filter(
            survey=survey, member_id__in=list(memberships)
        ).values_list("member_id", flat=True)
    }
    if purpose is not Purpose.EVENT:
        found |= set(
            SurveyInvitation.objects.filter(
                survey=survey, email__in=emails, responded_at__isnull=False
            ).values_list("email", flat=True)
        )
    return found


def person_screen(*, survey: Survey, person: Person, purpose: Purpose) -> Screened:
    """The screen for one person (an API event)."""
    return recipients_screen(survey=survey, people=[person], purpose=purpose)[0]


# Sends stored before the reasons were told apart counted unsubscribed addresses so.
LEGACY_SKIP_KEYS = {"suppressed": SkipReason.UNSUBSCRIBED}


def skips_shown(skipped: dict) -> list[tuple[str, str, int]]:
    """(code, label in the current language, count) for each reason a send skipped someone,
    in a fixed order; other keys of `skipped` (such as the invalid line numbers) are not
    reasons and are left out."""
    counts: dict[str, int] = {}
    for key, value in (skipped or {}).items():
        code = LEGACY_SKIP_KEYS.get(key, key)
        if code in SkipReason.values and isinstance(value, int) and value:
            counts[code] = counts.get(code, 0) + value
    return [
        (code, str(SkipReason(code).label), counts[code])
        for code in SkipReason.values
        if code in counts
    ]


def batches_summarised(*, batches: list[InvitationBatch]) -> list[InvitationBatch]:
    """The sends, each with `invited` (invitations written, each with its email),
    `matched` (of those, how many went to a known member) and `skips` (skips_shown);
    one query for all of them."""
    counts = {
        pk: (invited, matched)
        for pk, invited, matched in InvitationBatch.objects.filter(pk__in=[b.pk for b in batches])
        .annotate(
            invited=Count("invitations"),
            matched=Count("invitations", filter=Q(invitations__member__isnull=False)),
        )
        .values_list("pk", "invited", "matched")
    }
    for batch in batches:
        batch.invited, batch.matched = counts.get(batch.pk, (0, 0))
        batch.skips = skips_shown(batch.skipped)
        batch.skipped_total = sum(count for _code, _label, count in batch.skips)
    return batches
