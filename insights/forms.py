"""The dashboard's filters: a GET form, so a view is a URL to bookmark and share."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from communities.choices import MemberStatus
from communities.models import Location, Organisation, Segment
from insights.selectors import DashboardFilters
from rewards.models import Tier
from surveys.choices import ChannelKind
from surveys.models import Survey

DEFAULT_DAYS = 90
LONGEST_DAYS = 3 * 366
DATE = forms.DateInput({"type": "date"}, format="%Y-%m-%d")


class DashboardFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DATE)
    end = forms.DateField(label=_("To"), required=False, widget=DATE)
    interval = forms.ChoiceField(
        label=_("Trend by"),
        required=False,
        choices=[
            ("", _("Automatic")),
            ("day", _("Day")),
            ("week", _("Week")),
            ("month", _("Month")),
        ],
    )
    survey = forms.ModelChoiceField(
        label=_("Survey"), required=False, queryset=Survey.objects.none()
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *ChannelKind.choices]
    )
    location = forms.ModelChoiceField(
        label=_("Store"), required=False, queryset=Location.objects.none()
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All")), *settings.LANGUAGES]
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"), required=False, queryset=Segment.objects.none()
    )
    status = forms.ChoiceField(
        label=_("Member status"),
        required=False,
        choices=[
            ("", _("All")),
            *((v, label) for v, label in MemberStatus.choices if v != MemberStatus.ERASED),
        ],
    )
    tier = forms.ModelChoiceField(label=_("Tier"), required=False, queryset=Tier.objects.none())
    members = forms.BooleanField(
        label=_("Break down by segment, member status and tier"), required=False
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = Survey.objects.for_organisation(organisation).order_by(
            "-created_at"
        )
        self.fields["survey"].label_from_instance = lambda survey: survey.title_text
        self.fields["location"].queryset = Location.objects.filter(
            organisation=organisation
        ).order_by("name")
        self.fields["segment"].queryset = Segment.objects.for_organisation(organisation).order_by(
            "name"
        )
        self.fields["tier"].queryset = Tier.objects.for_organisation(organisation).order_by(
            "threshold"
        )
        self.fields["tier"].label_from_instance = lambda tier: tier.name_in(get_language() or "en")
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
                continue
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if select else "form-control"

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        if (end - start).days >= LONGEST_DAYS:
            raise forms.ValidationError(_("Choose a range of at most three years."))
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> DashboardFilters:
        """The filters chosen; the last 90 days, unfiltered, when the form is not valid."""
        if not self.is_valid():
            end = timezone.localdate()
            return DashboardFilters(start=end - dt.timedelta(days=DEFAULT_DAYS - 1), end=end)
        data = self.cleaned_data
        return DashboardFilters(
            start=data["start"],
            end=data["end"],
            interval=data.get("interval") or "",
            survey=data["survey"].pk if data.get("survey") else None,
            channel=data.get("channel") or None,
            location=data["location"].pk if data.get("location") else None,
            language=data.get("language") or None,
            segment=data["segment"].pk if data.get("segment") else None,
            status=data.get("status") or None,
            tier=data["tier"].pk if data.get("tier") else None,
            members=bool(data.get("members")),
        )
