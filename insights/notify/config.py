"""Owners' and admins' settings of the organisation's notifications: threshold alerts
per store and the weekly report's schedule."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communities.models import Location, Organisation, StaffRole, User
from communities.permissions import READ_RESULTS_ROLES
from insights.models import ReportSchedule, ThresholdAlert


def _staff_check(
    *, organisation: Organisation, users: Iterable[User], field: str, roles=None
) -> list[User]:
    users = list(users)
    staff = StaffRole.objects.for_organisation(organisation).filter(
        user__in=users, user__is_active=True
    )
    if roles is not None:
        staff = staff.filter(role__in=roles)
    if staff.count() != len({user.pk for user in users}):
        raise ValidationError(
            {field: ValidationError(_("Choose staff of this organisation."), code="not_staff")}
        )
    return users


@transaction.atomic
def threshold_alert_save(
    *,
    organisation: Organisation,
    location: Location,
    threshold: int,
    window_minutes: int,
    recipients: Iterable[User],
    active: bool = True,
    alert: ThresholdAlert | None = None,
) -> ThresholdAlert:
    """Create or change the threshold alert of one of the organisation's stores (one alert
    per store; a second is refused on "location")."""
    if location.organisation_id != organisation.pk:
        raise ValidationError({"location": _("Choose one of this organisation's stores.")})
    recipients = _staff_check(organisation=organisation, users=recipients, field="recipients")
    if not recipients:
        raise ValidationError(
            {"recipients": ValidationError(_("Choose at least one person."), code="required")}
        )
    taken = ThresholdAlert.objects.for_organisation(organisation).filter(location=location)
    if alert is not None:
        taken = taken.exclude(pk=alert.pk)
        alert = ThresholdAlert.objects.select_for_update().get(pk=alert.pk)
    if taken.exists():
        raise ValidationError(
            {
                "location": ValidationError(
                    _("This store already has an alert: change that one instead."),
                    code="duplicate",
                )
            }
        )
    alert = alert or ThresholdAlert(organisation=organisation)
    alert.location = location
    alert.threshold = threshold
    alert.window_minutes = window_minutes
    alert.active = active
    alert.full_clean(exclude=["recipients"])
    alert.save()
    alert.recipients.set(recipients)
    return alert


@transaction.atomic
def threshold_alert_delete(*, alert: ThresholdAlert) -> None:
    """Remove a store's threshold alert."""
    alert.delete()


@transaction.atomic
def report_schedule_save(
    *,
    organisation: Organisation,
    active: bool,
    weekday: int,
    hour: int,
    recipients: Iterable[User],
) -> ReportSchedule:
    """Set the organisation's weekly report: its day and hour in the organisation's time
    zone, and who gets it (staff who read results; at least one while it is on)."""
    recipients = _staff_check(
        organisation=organisation, users=recipients, field="recipients", roles=READ_RESULTS_ROLES
    )
    if active and not recipients:
        raise ValidationError(
            {
                "recipients": ValidationError(
                    _("Choose at least one person to send the report to."), code="required"
                )
            }
        )
    schedule, _created = ReportSchedule.objects.select_for_update().get_or_create(
        organisation=organisation
    )
    schedule.active = active
    schedule.weekday = weekday
    schedule.hour = hour
    schedule.full_clean(exclude=["recipients"])
    schedule.save()
    schedule.recipients.set(recipients)
    return schedule
