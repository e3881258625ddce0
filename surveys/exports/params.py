"""What an export is asked for, as query parameters: the labels' language, choice codes,
and the results page's filters (dates, channel, store, the respondents' language).

Every value arrives in a query string a person can edit, so everything is checked here and
a bad value is a clear error (the views answer 400), never a server error. The same form
reads a background job's stored parameters again in the worker, so the job writes exactly
the rows the streamed CSV gives for the same parameters.

The labels' language is `labels=`, not `lang=`: on staff pages `?lang=` is the staff
member's own language switch (communities.middleware), which an export must not change.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from communities.forms.audit import DateRangeMixin
from communities.models import Location, Organisation
from surveys.choices import ChannelKind

# The longest value any parameter can sensibly hold; a longer one is refused before parsing.
VALUE_MAX_LENGTH = 40


class _CodesCheckbox(forms.CheckboxInput):
    """A checkbox whose value is read as sent (Django's reads any text as ticked, "0" too),
    so the field can refuse what is not an answer."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class _CodesField(forms.Field):
    """codes=1 (or a ticked box, "on") for codes; absent, empty or 0 for labels."""

    widget = _CodesCheckbox(check_test=lambda value: value in (True, "1", "on"))
    default_error_messages = {
        "invalid": _("Use 1 for codes, or leave it out for labels."),
    }

    def to_python(self, value: Any) -> bool:
        if value in (None, "", False, "0"):
            return False
        if value in (True, "1", "on"):
            return True
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class ExportOptionsForm(DateRangeMixin, forms.Form):
    """The export's options; all optional (the labels default to the caller's language)."""

    labels = forms.ChoiceField(
        label=_("Labels in"),
        choices=settings.LANGUAGES,
        required=False,
        error_messages={"invalid_choice": _("Choose one of the languages in the list.")},
    )
    codes = _CodesField(label=_("Choice codes instead of labels"), required=False)
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
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", _("Any channel")), *ChannelKind.choices],
        required=False,
        error_messages={"invalid_choice": _("Choose a channel from the list.")},
    )
    location = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Location.objects.none(),
        required=False,
        empty_label=_("Any store"),
        error_messages={"invalid_choice": _("Choose a store from the list.")},
    )
    language = forms.ChoiceField(
        label=_("Answered in"),
        choices=[("", _("Any language")), *settings.LANGUAGES],
        required=False,
        error_messages={"invalid_choice": _("Choose one of the languages in the list.")},
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.for_organisation(organisation)

    def full_clean(self) -> None:
        # A value no field could hold (a pasted essay, a 5,000-digit id) is refused as too
        # long and left out before any field parses it or looks it up.
        too_long = [
            name
            for name in self.fields
            if self.is_bound
            and isinstance(self.data.get(name), str)
            and len(self.data[name]) > VALUE_MAX_LENGTH
        ]
        if too_long:
            self.data = self.data.copy()
            for name in too_long:
                self.data[name] = ""
        super().full_clean()
        for name in too_long:
            self.add_error(name, _("This value is too long to be an option."))

    def params(self, *, default_labels: str) -> ExportParams:
        """The validated options (call after is_valid())."""
        data = self.cleaned_data
        location = data.get("location")
        return ExportParams(
            labels=data.get("labels") or default_labels,
            codes=bool(data.get("codes")),
            since=data.get("since"),
            until=data.get("until"),
            channel=data.get("channel") or None,
            location_id=location.pk if location is not None else None,
            language=data.get("language") or None,
        )


class ExportRequestForm(ExportOptionsForm):
    """The export page's form: the options, and how the file is made."""

    DOWNLOAD_NOW = "csv"
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            (DOWNLOAD_NOW, _("CSV, download now")),
            ("xlsx", _("Excel (.xlsx), prepared in the background")),
            ("csv_file", _("CSV, prepared in the background (very large sets)")),
        ],
        initial=DOWNLOAD_NOW,
        error_messages={"invalid_choice": _("Choose a format from the list.")},
    )

    def job_format(self) -> str | None:
        """The background job's file format, or None for the streamed CSV."""
        return {"xlsx": "xlsx", "csv_file": "csv"}.get(self.cleaned_data["format"])


@dataclass(frozen=True)
class ExportParams:
    """Validated options: the labels' language, codes or labels, and the filters."""

    labels: str = settings.LANGUAGE_CODE
    codes: bool = False
    since: datetime.date | None = None
    until: datetime.date | None = None
    channel: str | None = None
    location_id: int | None = None
    language: str | None = None

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the responses below the whole survey (the results
        page reads its filters through this module too)."""
        return any(
            value is not None
            for value in (self.since, self.until, self.channel, self.location_id, self.language)
        )

    def query(self) -> dict[str, str]:
        """The options as query parameters: a URL's, a stored job's."""
        query = {"labels": self.labels}
        if self.codes:
            query["codes"] = "1"
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                query[name] = value.isoformat()
        if self.channel:
            query["channel"] = self.channel
        if self.location_id is not None:
            query["location"] = str(self.location_id)
        if self.language:
            query["language"] = self.language
        return query


def export_params_read(
    *, organisation: Organisation, data: Any, default_labels: str
) -> tuple[ExportParams | None, ExportOptionsForm]:
    """The options in `data` (a QueryDict or a stored dict), or None with the form's errors."""
    form = ExportOptionsForm(data, organisation=organisation)
    if not form.is_valid():
        return None, form
    return form.params(default_labels=default_labels), form
