"""The case inbox's table rows, written out in Python once per page.

Fifty rows of eleven cells through the template engine cost most of the page at 100,000
cases (each variable lookup, filter and {% blocktranslate %} runs per cell); the same
markup built here with format_html keeps escaping and costs a fraction. Everything that
repeats on every row (labels, translated words, the case page's address) is worked out
once per page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format_with
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from feedback.choices import CasePriority, CaseStatus
from feedback.models import Case
from feedback.timeline import case_due_text

_SENTINEL = 987654321


def _when(value: datetime, time_zone: tzinfo) -> datetime:
    return timezone.localtime(value, time_zone)


def _badge(text: str, *, overdue: bool, title: str) -> SafeString:
    kind = "text-bg-danger" if overdue else "text-bg-light border"
    return format_html('<span class="badge {}" title="{}">{}</span>', kind, title, text)


def inbox_rows_html(
    cases: Iterable[Case], *, organisation_slug: str, time_zone: tzinfo
) -> SafeString:
    """The <tr> of every case on the page, in the reader's language and the organisation's
    time zone, equal to what the inbox template used to render per cell."""
    now = timezone.now()
    status_labels = {value: str(label) for value, label in CaseStatus.choices}
    priority_labels = {value: str(label) for value, label in CasePriority.choices}
    # The reader's short date-time format, looked up once rather than per cell.
    short = get_format("SHORT_DATETIME_FORMAT")
    detail = reverse("staff:case_detail", args=[organisation_slug, _SENTINEL])
    unassigned = format_html('<span class="text-body-secondary">{}</span>', _("Unassigned"))
    select_text = _("Select case #%(id)s")
    first_response_text = _("first response: %(due)s")
    rows = []
    for case in cases:
        pk = case.pk
        priority = priority_labels.get(case.priority, case.priority)
        if case.priority == CasePriority.HIGH:
            priority = format_html('<span class="badge text-bg-danger">{}</span>', priority)
        assignee = case.assignee
        owner = (
            format_html("<bdi>{}</bdi>", assignee.name or assignee.email)
            if assignee
            else unassigned
        )
        team = format_html("<bdi>{}</bdi>", case.team.name) if case.team else "—"
        response = case.response
        location = (
            format_html("<bdi>{}</bdi>", response.location.name) if response.location else "—"
        )
        created = _when(case.created_at, time_zone)
        age = format_html(
            '<time datetime="{}" title="{}">{}</time>',
            created.isoformat(),
            date_format_with(created, short),
            timesince(case.created_at, now),
        )
        due_text, overdue = case_due_text(due_at=case.due_at, status=case.status, now=now)
        due = (
            _badge(
                due_text,
                overdue=overdue,
                title=date_format_with(_when(case.due_at, time_zone), short),
            )
            if due_text
            else "—"
        )
        if case.first_response_at is None:
            first_text, first_overdue = case_due_text(
                due_at=case.first_response_due_at, status=case.status, now=now
            )
            if first_text:
                due = format_html(
                    "{}<div>{}</div>",
                    due,
                    _badge(
                        first_response_text % {"due": first_text},
                        overdue=first_overdue,
                        title=date_format_with(_when(case.first_response_due_at, time_zone), short),
                    ),
                )
        sentiment = floatformat(case.sentiment, 2) if case.sentiment is not None else "—"
        rows.append(
            format_html(
                '<tr data-case="{pk}">'
                '<td><input class="form-check-input" type="checkbox" name="cases" value="{pk}"'
                ' id="pick-{pk}" aria-label="{select}"></td>'
                '<td><a href="{url}">#{pk}</a><div class="small text-body-secondary">'
                "<bdi>{reason}</bdi></div></td>"
                "<td>{status}</td><td>{priority}</td><td>{owner}</td><td>{team}</td>"
                "<td><bdi>{survey}</bdi></td><td>{location}</td><td>{age}</td>"
                "<td>{due}</td><td>{sentiment}</td></tr>\n",
                pk=pk,
                select=select_text % {"id": pk},
                url=detail.replace(str(_SENTINEL), str(pk)),
                reason=case.reason,
                status=status_labels.get(case.status, case.status),
                priority=priority,
                owner=owner,
                team=team,
                survey=response.survey.title_text,
                location=location,
                age=age,
                due=due,
                sentiment=sentiment,
            )
        )
    if not rows:
        return format_html('<tr><td colspan="11">{}</td></tr>', _("No cases match these filters."))
    # Every row came out of format_html, so each is already escaped.
    return mark_safe("".join(rows))  # noqa: S308
