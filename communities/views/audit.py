"""The audit log page (owners only): who did what, when, to what, before and after.

Owners only (`can_read_audit`): the log records what admins did, so admins get 403 rather
than a read-only view; another organisation answers 404 as every staff page does. The page
walks the log newest first by keyset (created_at, id), so a page deep in a long log costs
the same as the first. The CSV export streams the same filtered entries through
`SafeCsvWriter`, so no cell runs as a formula, and is itself recorded in the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from communities.forms.audit import AuditFilterForm
from communities.models import AuditEntry
from communities.permissions import can_read_audit
from communities.scoping import StaffScopedMixin
from communities.selectors import audit_log
from communities.services.audit import (
    audit_action_label,
    audit_choice_label,
    audit_field_label,
    audit_record,
    audit_target_label,
)
from communities.views.settings import audit_value_display, organisation_time_zone
from config.spreadsheet import SafeCsvWriter

ENTRIES_PER_PAGE = 50
# A cursor is an entry id; anything else in ?older= / ?newer= is ignored (first page).
_CURSOR = re.compile(r"[0-9]{1,18}")
# Entries about a member with nobody signed in as staff were the member's own doing.
_MEMBER_TARGET = "member"


def _older_than(entry: AuditEntry) -> Q:
    return Q(created_at__lt=entry.created_at) | Q(created_at=entry.created_at, pk__lt=entry.pk)


def _newer_than(entry: AuditEntry) -> Q:
    return Q(created_at__gt=entry.created_at) | Q(created_at=entry.created_at, pk__gt=entry.pk)


def keyset_page(
    entries: QuerySet[AuditEntry],
    *,
    older: AuditEntry | None,
    newer: AuditEntry | None,
    size: int = ENTRIES_PER_PAGE,
) -> tuple[list[AuditEntry], bool, bool]:
    """One page of `entries` (ordered newest first): those just older than `older`, or just
    newer than `newer`, or the newest. Returns (rows, has_newer, has_older)."""
    if newer is not None:
        rows = list(entries.filter(_newer_than(newer)).reverse()[: size + 1])
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        has_older = bool(rows) and entries.filter(_older_than(rows[-1])).exists()
        return rows, has_newer, has_older
    rows = list((entries.filter(_older_than(older)) if older else entries)[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    has_newer = older is not None and bool(rows) and entries.filter(_newer_than(rows[0])).exists()
    return rows, has_newer, has_older


def audit_who(entry: AuditEntry) -> str:
    if entry.actor is not None:
        return entry.actor.name or entry.actor.email
    if entry.target_type == _MEMBER_TARGET:
        return _("The member")
    return _("(unknown)")


def audit_display(target_type: str, field: str, value: Any) -> str:
    """A logged value as people read it: a choice by its label, a language by its name."""
    return audit_value_display(field, audit_choice_label(target_type, field, value))


def audit_changes_display(entry: AuditEntry) -> list[dict[str, str]]:
    """[{field, before, after}] of an entry, in the active language."""
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    shown = []
    for field, pair in changes.items():
        before, after = (list(pair) + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        shown.append(
            {
                "field": audit_field_label(entry.target_type, field),
                "before": audit_display(entry.target_type, field, before),
                "after": audit_display(entry.target_type, field, after),
            }
        )
    return shown


def audit_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "entry": entry,
        "who": audit_who(entry),
        "action": audit_action_label(entry.action),
        "target_kind": audit_target_label(entry.target_type) if entry.target_type else "",
        # The organisation's own name adds nothing to "Settings changed".
        "target": "" if entry.target_type == "organisation" else entry.target_label,
        "changes": audit_changes_display(entry),
    }


class _AuditLogMixin(StaffScopedMixin):
    permission = staticmethod(can_read_audit)

    def filter_form(self) -> AuditFilterForm:
        query = self.request.GET
        filters = {k: v for k, v in query.items() if k in AuditFilterForm.base_fields}
        return AuditFilterForm(filters or None, organisation=self.organisation)

    def filtered_entries(self, form: AuditFilterForm) -> QuerySet[AuditEntry]:
        """The entries the valid filters select (the dates are whole days in the
        organisation's time zone, both ends included)."""
        data = form.cleaned_data if form.is_bound else {}
        zone = organisation_time_zone(self.organisation)
        since, until = data.get("since"), data.get("until")
        return audit_log(
            organisation=self.organisation,
            action=data.get("action") or "",
            actor=data.get("actor"),
            target_type=data.get("target_type") or "",
            since=_day_start(since, zone) if since else None,
            until=_day_start(until + timedelta(days=1), zone) if until else None,
        )

    def filters_query(self, form: AuditFilterForm) -> dict[str, str]:
        """The filters as they appear in links (the next page, the export)."""
        if not form.is_bound:
            return {}
        return {
            name: str(form.data[name])
            for name in AuditFilterForm.base_fields
            if form.data.get(name) not in (None, "")
        }

    def page(self, form: AuditFilterForm, *, status: int = 200) -> HttpResponse:
        context = self.get_context_data(form=form)
        return self.render_to_response(context, status=status)


def _day_start(day, zone: tzinfo) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


class StaffAuditLogView(_AuditLogMixin, TemplateView):
    """/staff/<org>/audit/: the log, newest first, filtered, a page at a time."""

    template_name = "communities/staff_audit.html"

    def _cursor(self, name: str) -> AuditEntry | None:
        raw = self.request.GET.get(name, "")
        if not _CURSOR.fullmatch(raw):
            return None
        return (
            AuditEntry.objects.filter(organisation=self.organisation, pk=int(raw))
            .only("pk", "created_at", "organisation")
            .first()
        )

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = self.filter_form()
        valid = not form.is_bound or form.is_valid()
        return self.page(form, status=200 if valid else 400)

    def get_context_data(self, **kwargs) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form: AuditFilterForm = kwargs["form"]
        rows: list[AuditEntry] = []
        has_newer = has_older = False
        older, newer = self._cursor("older"), self._cursor("newer")
        if not form.is_bound or form.is_valid():
            rows, has_newer, has_older = keyset_page(
                self.filtered_entries(form), older=older, newer=newer
            )
        filters = self.filters_query(form)
        here = reverse("staff:audit_log", args=[self.organisation.slug])
        context.update(
            rows=[audit_row(entry) for entry in rows],
            newer_url=f"?{urlencode({**filters, 'newer': rows[0].pk})}" if has_newer else "",
            older_url=f"?{urlencode({**filters, 'older': rows[-1].pk})}" if has_older else "",
            newest_url=f"{here}?{urlencode(filters)}" if filters else here,
            export_url=reverse("staff:audit_export", args=[self.organisation.slug])
            + (f"?{urlencode(filters)}" if filters else ""),
            time_zone=organisation_time_zone(self.organisation),
            paged=older is not None or newer is not None,
        )
        return context


class _Echo:
    """A file that hands back what is written, so csv rows can be streamed as they come."""

    def write(self, value: str) -> str:
        return value


class StaffAuditExportView(StaffAuditLogView):
    """/staff/<org>/audit/export.csv: the filtered log as CSV, streamed; the export itself
    goes into the log first. Bad filters show the log page with its errors (400)."""

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = self.filter_form()
        if form.is_bound and not form.is_valid():
            return self.page(form, status=400)
        filters = self.filters_query(form)
        audit_record(
            organisation=self.organisation,
            actor=request.user,
            action="audit.export",
            target_type="audit_log",
            target_label=", ".join(f"{k}={v}" for k, v in filters.items()),
        )
        entries = self.filtered_entries(form)
        zone = organisation_time_zone(self.organisation)
        language = translation.get_language()
        response = StreamingHttpResponse(
            _csv_lines(entries, zone=zone, language=language),
            content_type="text/csv; charset=utf-8",
        )
        day = timezone.localtime(timezone.now(), zone).date().isoformat()
        response["Content-Disposition"] = (
            f'attachment; filename="audit-log-{self.organisation.slug}-{day}.csv"'
        )
        response["Cache-Control"] = "no-store"
        return response


def _csv_lines(entries: QuerySet[AuditEntry], *, zone: tzinfo, language: str) -> Iterator[str]:
    """The CSV, a line at a time: one line per changed field (one for an entry without)."""
    writer = SafeCsvWriter(_Echo())
    with translation.override(language):
        header = [
            _("When"),
            _("Who"),
            _("Who (address)"),
            _("What"),
            _("Action code"),
            _("Object type"),
            _("Object"),
            _("Object name"),
            _("Field"),
            _("Before"),
            _("After"),
        ]
    # A byte-order mark, so spreadsheets read the file as UTF-8 (Thai, Hebrew, Japanese).
    yield "\ufeff" + writer.writerow(header)
    for entry in entries.iterator(chunk_size=500):
        with translation.override(language):
            row = audit_row(entry)
            start = [
                entry.created_at.astimezone(zone).isoformat(timespec="seconds"),
                row["who"],
                entry.actor.email if entry.actor is not None else "",
                row["action"],
                entry.action,
                row["target_kind"],
                entry.target_id,
                entry.target_label,
            ]
            changes = row["changes"] or [{"field": "", "before": "", "after": ""}]
            lines = [
                writer.writerow([*start, c["field"], c["before"], c["after"]]) for c in changes
            ]
        yield from lines
