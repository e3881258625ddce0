"""When an organisation last wrote to a person: the one place the contact-frequency limit
is read from, for every channel that contacts people (API events, staff sends, reminders
and, when the organisation chooses, follow-up emails).

The outbox is the record: every email is a row there before it is a message, so a
contact is an outbox row to the address, of a template the limit counts, that has not
failed for good. A row counts from when it was written (queued), not when it left:
an email waiting in the outbox will reach the person as surely as one already sent.

What a mature survey product does (Qualtrics' contact frequency rules, for one) and what
Chorus does:

- survey invitations count, from every channel (staff sends, API events);
- a reminder of an invitation is exempt from the check (the invitation it belongs to was
  counted when it went), but is itself a contact: it too reached the person's inbox;
- follow-up emails answer what the person asked about: outside the limit unless the
  organisation sets `contact_limit_followups`, and then both checked and counted. A
  follow-up is never held back by the invitations of the survey it follows up
  (`exclude_survey_id`): they are what led to the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Max, Q
from django.utils import timezone

from communities.models import Organisation
from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail

# Outbox templates that are contacts under the limit. Invitations and their reminders
# share the "invitation" template.
INVITATION_TEMPLATES = ("invitation",)
FOLLOWUP_TEMPLATES = ("followup",)
# The context key that ties an email to the survey it is about.
SURVEY_KEY = "survey_id"


def contact_templates(*, organisation: Organisation) -> tuple[str, ...]:
    """The outbox templates the organisation's contact limit counts."""
    if organisation.contact_limit_followups:
        return INVITATION_TEMPLATES + FOLLOWUP_TEMPLATES
    return INVITATION_TEMPLATES


def contacts_last(
    *,
    organisation: Organisation,
    emails: Iterable[str],
    since: datetime | None = None,
    exclude_survey_id: int | None = None,
) -> dict[str, datetime]:
    """When each address was last contacted (lower-cased address → time); one query.

    Addresses never contacted (or not since `since`) are absent. Every contact email is
    written to a lower-cased address, so the lookup is exact (and uses the
    outbox_contact_lookup index).
    """
    addresses = sorted({e.strip().lower() for e in emails if e})
    if not addresses:
        return {}
    rows = OutboundEmail.objects.filter(
        organisation=organisation,
        to_email__in=addresses,
        template__in=contact_templates(organisation=organisation),
    ).exclude(status__in=(EmailStatus.FAILED, EmailStatus.SUPPRESSED))
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if exclude_survey_id is not None:
        rows = rows.exclude(
            Q(context__has_key=SURVEY_KEY) & Q(**{f"context__{SURVEY_KEY}": exclude_survey_id})
        )
    return dict(
        rows.order_by()
        .values("to_email")
        .annotate(last=Max("created_at"))
        .values_list("to_email", "last")
    )


def contacts_limited(
    *,
    organisation: Organisation,
    emails: Iterable[str],
    now: datetime | None = None,
    exclude_survey_id: int | None = None,
) -> dict[str, datetime]:
    """The addresses the contact limit holds back now, each with its last contact.

    A limit of 0 days is no limit.
    """
    if not organisation.contact_limit_days:
        return {}
    now = now or timezone.now()
    return contacts_last(
        organisation=organisation,
        emails=emails,
        since=now - timedelta(days=organisation.contact_limit_days),
        exclude_survey_id=exclude_survey_id,
    )


def contact_allowed_after(*, organisation: Organisation, last: datetime) -> datetime:
    """The earliest time a person last contacted at `last` may be contacted again."""
    return last + timedelta(days=organisation.contact_limit_days)
