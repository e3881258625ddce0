"""The organisation's settings page (owners and admins), with its recent audited changes."""

from __future__ import annotations

import zoneinfo
from datetime import tzinfo
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from communities.forms.settings import OrganisationSettingsForm
from communities.formviews import StaffFormView
from communities.models import AuditEntry, Organisation
from communities.permissions import can_manage
from communities.selectors import audit_entries
from communities.services.audit import audit_action_label, audit_field_label
from communities.services.organisations import organisation_settings_update

# Changed fields whose stored value is a language code, shown as the language's name.
LANGUAGE_FIELDS = frozenset({"default_language", "language"})


def organisation_time_zone(organisation: Organisation) -> tzinfo:
    """The zone the organisation's staff pages show times in (UTC if the name is unknown)."""
    try:
        return zoneinfo.ZoneInfo(organisation.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def audit_value_display(field: str, value: Any) -> str:
    """A logged value as people read it: a language by name, yes/no, an empty value said."""
    if value is None or value == "":
        return _("(none)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field in LANGUAGE_FIELDS:
        return str(dict(settings.LANGUAGES).get(value, value))
    return str(value)


def audit_rows(entries: list[AuditEntry]) -> list[dict[str, Any]]:
    """One row per changed field (one per entry that names no fields) for the change log."""
    rows = []
    for entry in entries:
        base = {
            "entry": entry,
            "action": audit_action_label(entry.action),
            # The organisation's own name adds nothing to "Settings changed".
            "target": "" if entry.target_type == "organisation" else entry.target_label,
        }
        changes = entry.changes if isinstance(entry.changes, dict) else {}
        if not changes:
            rows.append({**base, "field": "", "before": "", "after": ""})
        for field, pair in changes.items():
            before, after = (
                (list(pair) + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            )
            rows.append(
                {
                    **base,
                    "field": audit_field_label(entry.target_type, field),
                    "before": audit_value_display(field, before),
                    "after": audit_value_display(field, after),
                }
            )
    return rows


class StaffSettingsView(StaffFormView):
    """Edit the organisation's settings; every save that changes something is audited."""

    template_name = "communities/staff_settings.html"
    permission = staticmethod(can_manage)
    form_class = OrganisationSettingsForm

    def get_initial(self) -> dict[str, Any]:
        return OrganisationSettingsForm.initial_from(self.organisation)

    def form_save(self, form: OrganisationSettingsForm) -> dict[str, list[Any]]:
        return organisation_settings_update(
            organisation=self.organisation, actor=self.request.user, **form.cleaned_data
        )

    def get_success_message(self, form: OrganisationSettingsForm) -> str:
        return _("Settings saved.") if self.saved else _("Nothing to save: no setting changed.")

    def get_success_url(self) -> str:
        return reverse("staff:settings", args=[self.organisation.slug])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            # Only the settings' and stores' own changes: the whole log is for owners.
            change_rows=audit_rows(
                audit_entries(
                    organisation=self.organisation, target_type=("organisation", "location")
                )
            ),
            time_zone=organisation_time_zone(self.organisation),
            time_zone_name=self.organisation.time_zone,
        )
        return context
