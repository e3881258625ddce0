"""The daily or weekly digest each staff member may ask for, and the organisation's
weekly report to the staff its owners and admins chose.

Both read the dashboard's public selector (insights.selectors.dashboard) for their figures,
so every number in an email is the number the dashboard shows, with the same small-group
rules, and the top negative comments per store through insights.notify.negatives (k
respected). Periods are whole days of the organisation's time zone; what a recipient
sees follows their role (cases for those who work cases, figures and comments for those
who read results).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Organisation
from communities.permissions import can_read_results, can_work_cases
from feedback.models import Case
from insights.models import NotificationPreference, ReportSchedule
from insights.models.notifications import DigestFrequency
from insights.notify.emails import keys_written, organisation_zone, staff_email_write, staff_roles
from insights.notify.negatives import negative_comments
from insights.notify.preferences import preferences_for
from insights.selectors import Dashboard, DashboardFilters, dashboard

# The dashboard's headline figures an email shows, in this order, with its own labels
# (put into words in the recipient's language when the email is rendered).
FIGURES = (
    ("responses", _("Responses")),
    ("nps", _("NPS")),
    ("csat", _("CSAT (percent satisfied)")),
    ("stars", _("Average stars")),
    ("response_rate", _("Response rate (%)")),
)
CASES_LISTED = 10
TREND_WEEKS = 8


@dataclass
class Figure:
    label: str
    now: float | None
    before: float | None
    delta: float | None


def figures_of(board: Dashboard) -> list[Figure]:
    """The headline figures beside the previous period's; none when the period holds
    fewer than k responses (the dashboard then withholds everything)."""
    if board.withheld:
        return []
    changes = {change.name: change for change in board.changes}
    return [
        Figure(
            label=label,
            now=changes[name].now,
            before=changes[name].before,
            delta=changes[name].delta,
        )
        for name, label in FIGURES
        if name in changes
    ]


def _local_today(organisation: Organisation, now: dt.datetime) -> dt.datetime:
    return now.astimezone(organisation_zone(organisation))


def digest_period(*, frequency: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The days a digest sent today covers: yesterday, or (on Mondays) last week."""
    if frequency == DigestFrequency.DAILY:
        return today - dt.timedelta(days=1), today - dt.timedelta(days=1)
    if frequency == DigestFrequency.WEEKLY and today.weekday() == 0:
        return today - dt.timedelta(days=7), today - dt.timedelta(days=1)
    return None


def _cases_new(*, organisation: Organisation, start: dt.date, end: dt.date) -> dict:
    zone = organisation_zone(organisation)
    cases = Case.objects.for_organisation(organisation).filter(
        created_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=zone),
        created_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
    )
    listed = list(cases.select_related("assignee").order_by("-created_at")[:CASES_LISTED])
    for case in listed:
        path = reverse("staff:case_detail", args=[organisation.slug, case.pk])
        case.url = f"{settings.SITE_URL}{path}"
    return {"count": cases.count(), "listed": listed}


class _Period:
    """What one organisation's digest for one period holds, read once for all recipients."""

    def __init__(self, organisation: Organisation, start: dt.date, end: dt.date) -> None:
        self.organisation, self.start, self.end = organisation, start, end
        self._cases: dict | None = None
        self._results: dict | None = None

    def cases(self) -> dict:
        if self._cases is None:
            self._cases = _cases_new(organisation=self.organisation, start=self.start, end=self.end)
        return self._cases

    def results(self) -> dict:
        if self._results is None:
            board = dashboard(
                organisation=self.organisation,
                filters=DashboardFilters(start=self.start, end=self.end),
            )
            self._results = {
                "figures": figures_of(board),
                "comments": negative_comments(
                    organisation=self.organisation, start=self.start, end=self.end
                ),
            }
        return self._results


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Write each digest that is due (from NOTIFY_DIGEST_HOUR of the organisation's day)
    and not yet written; returns how many emails were written."""
    now = now or timezone.now()
    by_org: dict[int, list[NotificationPreference]] = defaultdict(list)
    wanted = NotificationPreference.objects.exclude(digest=DigestFrequency.NONE)
    for pref in wanted.select_related("organisation", "user"):
        by_org[pref.organisation_id].append(pref)
    sent = 0
    for prefs in by_org.values():
        organisation = prefs[0].organisation
        local = _local_today(organisation, now)
        if local.hour < settings.NOTIFY_DIGEST_HOUR:
            continue
        due = []
        for pref in prefs:
            period = digest_period(frequency=pref.digest, today=local.date())
            if period is not None:
                key = f"notify:digest:{organisation.pk}:{pref.user_id}:{pref.digest}:{period[0]}"
                due.append((pref, period, key))
        written = keys_written(key for _p, _d, key in due)
        roles = staff_roles(organisation=organisation, user_ids=[p.user_id for p, _d, _k in due])
        periods: dict[tuple, _Period] = {}
        for pref, period, key in due:
            role = roles.get(pref.user_id)
            if key in written or role is None:
                continue
            content = periods.setdefault(period, _Period(organisation, *period))
            context = {"frequency": pref.digest, "start": period[0], "end": period[1]}
            if can_work_cases(role.role):
                context["cases"] = content.cases()
            if can_read_results(role.role):
                context.update(content.results(), results=True)
            email = staff_email_write(
                organisation=organisation,
                user=role.user,
                base="digest",
                context=context,
                record={"start": period[0].isoformat(), "end": period[1].isoformat()},
                key=key,
            )
            sent += email is not None
    return sent


def report_content(*, organisation: Organisation, end: dt.date) -> dict:
    """The weekly report's figures: the seven days to `end` beside the seven before, the
    weekly trend of the last TREND_WEEKS weeks, and the top negative comments per store."""
    start = end - dt.timedelta(days=6)
    board = dashboard(organisation=organisation, filters=DashboardFilters(start=start, end=end))
    trend = dashboard(
        organisation=organisation,
        filters=DashboardFilters(
            start=end - dt.timedelta(weeks=TREND_WEEKS, days=-1), end=end, interval="week"
        ),
    )
    return {
        "start": start,
        "end": end,
        "figures": figures_of(board),
        "trend": [] if trend.withheld else trend.trend,
        "comments": negative_comments(organisation=organisation, start=start, end=end),
        "dashboard_url": settings.SITE_URL
        + reverse("staff:insights_dashboard", args=[organisation.slug]),
    }


def reports_send(*, now: dt.datetime | None = None) -> int:
    """Write the weekly report of each schedule whose day and hour (in its organisation's
    time zone) have come, to each recipient who still reads results and has not opted
    out; returns how many emails were written."""
    now = now or timezone.now()
    sent = 0
    schedules = ReportSchedule.objects.filter(active=True).select_related("organisation")
    for schedule in schedules.order_by("pk"):
        organisation = schedule.organisation
        local = _local_today(organisation, now)
        if local.weekday() != schedule.weekday or local.hour < schedule.hour:
            continue
        end = local.date() - dt.timedelta(days=1)
        user_ids = list(schedule.recipients.values_list("pk", flat=True))
        roles = staff_roles(organisation=organisation, user_ids=user_ids)
        prefs = preferences_for(organisation=organisation, user_ids=roles)
        keys = {
            user_id: f"notify:report:{schedule.pk}:{end}:{user_id}"
            for user_id, role in roles.items()
            if can_read_results(role.role) and prefs[user_id].scheduled_report
        }
        written = keys_written(keys.values())
        keys = {user_id: key for user_id, key in keys.items() if key not in written}
        if not keys:
            continue
        content = report_content(organisation=organisation, end=end)
        for user_id, key in sorted(keys.items()):
            email = staff_email_write(
                organisation=organisation,
                user=roles[user_id].user,
                base="report",
                context=content,
                record={"schedule_id": schedule.pk, "end": end.isoformat()},
                key=key,
            )
            sent += email is not None
    return sent
