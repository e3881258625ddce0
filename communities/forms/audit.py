"""The audit log's filters: by action, by who, by kind of object, and by date.

Every field is optional; whatever arrives in the query string is checked here, so a
hand-edited address gets an error on the page, never a server error.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from communities.models import Organisation
from communities.selectors import audit_actors
from communities.services.audit import (
    AUDIT_ACTIONS,
    AUDIT_TARGET_LABELS,
    audit_action_label,
    audit_target_label,
)

# Dates a person can mean; beyond these a date's end-of-day would not fit a timestamp.
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2999, 12, 31)


class DateRangeMixin:
    """A filter form's `since` and `until` dates: each a date a person can mean, and in
    order. Shared by the staff filters that take a date range (audit log, redemptions)."""

    def _date_in_range(self, name: str) -> datetime.date | None:
        value = self.cleaned_data.get(name)
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise forms.ValidationError(
                _("Enter a date from %(low)s to %(high)s.")
                % {"low": EARLIEST_DATE.isoformat(), "high": LATEST_DATE.isoformat()}
            )
        return value

    def clean_since(self) -> datetime.date | None:
        return self._date_in_range("since")

    def clean_until(self) -> datetime.date | None:
        return self._date_in_range("until")

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data


class ActorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return f"{user.name} <{user.email}>" if user.name else user.email


class AuditFilterForm(DateRangeMixin, forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = ActorChoiceField(
        label=_("Who"),
        queryset=None,
        required=False,
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("Choose someone from the list.")},
    )
    target_type = forms.ChoiceField(label=_("Object type"), required=False)
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date like 2026-03-31.")},
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date like 2026-03-31.")},
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = audit_actors(organisation=organisation)
        actions = sorted(AUDIT_ACTIONS, key=lambda code: audit_action_label(code).casefold())
        self.fields["action"].choices = [("", _("Any action"))] + [
            (code, audit_action_label(code)) for code in actions
        ]
        targets = sorted(AUDIT_TARGET_LABELS, key=lambda t: audit_target_label(t).casefold())
        self.fields["target_type"].choices = [("", _("Any object"))] + [
            (target, audit_target_label(target)) for target in targets
        ]
        for name in ("since", "until"):
            self.fields[name].widget.attrs.update(
                min=EARLIEST_DATE.isoformat(), max=LATEST_DATE.isoformat()
            )
        self.fields["action"].error_messages["invalid_choice"] = _(
            "Choose an action from the list."
        )
        self.fields["target_type"].error_messages["invalid_choice"] = _(
            "Choose an object type from the list."
        )
