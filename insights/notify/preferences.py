"""Reading and saving staff members' notification preferences."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from communities.models import Organisation, User
from insights.models import NotificationPreference


def preference_of(*, organisation: Organisation, user: User) -> NotificationPreference:
    """The staff member's preferences in the organisation: the saved row, or the defaults
    (unsaved) when they never changed them."""
    saved = NotificationPreference.objects.for_organisation(organisation).filter(user=user).first()
    return saved or NotificationPreference(organisation=organisation, user=user)


def preferences_for(
    *, organisation: Organisation, user_ids: Iterable[int]
) -> dict[int, NotificationPreference]:
    """Preferences of several staff members, defaults filled in for those with no row."""
    user_ids = list(user_ids)
    saved = {
        pref.user_id: pref
        for pref in NotificationPreference.objects.for_organisation(organisation).filter(
            user_id__in=user_ids
        )
    }
    return {
        pk: saved.get(pk) or NotificationPreference(organisation=organisation, user_id=pk)
        for pk in user_ids
    }


@transaction.atomic
def preference_save(
    *,
    organisation: Organisation,
    user: User,
    case_assigned: bool,
    case_overdue: bool,
    digest: str,
    scheduled_report: bool,
) -> NotificationPreference:
    """Save a staff member's own preferences (one row per person and organisation)."""
    pref, _created = NotificationPreference.objects.select_for_update().get_or_create(
        organisation=organisation, user=user
    )
    pref.case_assigned = case_assigned
    pref.case_overdue = case_overdue
    pref.digest = digest
    pref.scheduled_report = scheduled_report
    pref.full_clean()
    pref.save()
    return pref
