"""Threshold alerts per store: "more than N negative answers within the window at this
store" emails the alert's recipients, at most once per window.

A beat task checks every minute. The alert row is locked while it fires and its
last_alerted_at moves in the same transaction as the outbox rows are written, so two
overlapping runs send one alert; the next may go once a whole window has passed.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from insights.models import ThresholdAlert
from insights.notify.emails import staff_email_write, staff_roles
from insights.notify.negatives import negative_responses_at


def _quiet_since(alert: ThresholdAlert, *, now: dt.datetime) -> bool:
    window = dt.timedelta(minutes=alert.window_minutes)
    return alert.last_alerted_at is None or alert.last_alerted_at <= now - window


@transaction.atomic
def _alert_fire(*, alert_id: int, now: dt.datetime, count: int) -> int:
    alert = (
        ThresholdAlert.objects.select_for_update()
        .select_related("organisation", "location")
        .get(pk=alert_id)
    )
    if not alert.active or not _quiet_since(alert, now=now):
        return 0  # another run fired it meanwhile
    alert.last_alerted_at = now
    alert.save(update_fields=["last_alerted_at", "updated_at"])
    organisation = alert.organisation
    k = organisation.min_group_size
    path = reverse("staff:insights_dashboard", args=[organisation.slug])
    roles = staff_roles(
        organisation=organisation, user_ids=alert.recipients.values_list("pk", flat=True)
    )
    sent = 0
    for user_id, role in sorted(roles.items()):
        email = staff_email_write(
            organisation=organisation,
            user=role.user,
            base="threshold_alert",
            context={
                "alert": alert,
                "store": alert.location.name,
                # The exact count only when it is a group of at least k; else "more than N"
                # says all that is needed to act.
                "count": count if count >= k else None,
                "since": now - dt.timedelta(minutes=alert.window_minutes),
                "dashboard_url": (f"{settings.SITE_URL}{path}?location={alert.location_id}"),
            },
            record={"alert_id": alert.pk, "location_id": alert.location_id},
            key=f"notify:alert:{alert.pk}:{now.isoformat()}:{user_id}",
        )
        sent += email is not None
    return sent


def threshold_alerts_check(*, now: dt.datetime | None = None) -> int:
    """Check every active alert whose last alert is a window old; fire those over their
    threshold. Returns how many emails were written."""
    now = now or timezone.now()
    sent = 0
    alerts = ThresholdAlert.objects.filter(active=True).select_related("location")
    for alert in alerts.order_by("pk"):
        if not _quiet_since(alert, now=now):
            continue
        since = now - dt.timedelta(minutes=alert.window_minutes)
        count = negative_responses_at(location=alert.location, since=since)
        if count > alert.threshold:
            sent += _alert_fire(alert_id=alert.pk, now=now, count=count)
    return sent
