"""The GET forms of the pages that list responses: every choice is limited to the
organisation's own rows, so another organisation's id is an invalid choice, not a leak."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from communities.models import Location, Organisation, Segment
from insights.drill.filters import ResponseFilters
from insights.forms import DATE, DEFAULT_DAYS, LONGEST_DAYS, DashboardFilterForm
from rewards.models import Tier
from surveys.choices import ChannelKind
from surveys.models import Survey

BAND_CHOICES = [
    ("", _("All")),
    ("detractor", _("Detractors (0–6)")),
    ("passive", _("Passives (7–8)")),
    ("promoter", _("Promoters (9–10)")),
]


class ResponseFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DATE)
    end = forms.DateField(label=_("To"), required=False, widget=DATE)
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
    # Who answered: the dashboard's own fields, so a link from it keeps its meaning.
    status = DashboardFilterForm.base_fields["status"]
    tier = DashboardFilterForm.base_fields["tier"]
    band = forms.ChoiceField(label=_("NPS band"), required=False, choices=BAND_CHOICES)
    stars = forms.TypedChoiceField(
        label=_("Stars"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("All")), *((str(n), str(n)) for n in range(1, 6))],
    )
    csat = forms.ChoiceField(
        label=_("CSAT"),
        required=False,
        choices=[
            ("", _("All")),
            ("satisfied", _("Satisfied (4–5)")),
            ("unsatisfied", _("Not satisfied (1–3)")),
        ],
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
        self.fields["segment"].queryset = (
            Segment.objects.for_organisation(organisation)
            .select_related("community")
            .order_by("name")
        )
        self.fields["tier"].queryset = Tier.objects.for_organisation(organisation).order_by(
            "threshold"
        )
        self.fields["tier"].label_from_instance = lambda tier: tier.name_in(get_language() or "en")
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if select else "form-control"

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        if (end - start).days >= LONGEST_DAYS:
            raise forms.ValidationError(_("Choose a range of at most three years."))
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> ResponseFilters | None:
        """The filters chosen, or None when the form is not valid (nothing is listed)."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return ResponseFilters(
            start=data["start"],
            end=data["end"],
            survey=data["survey"].pk if data.get("survey") else None,
            channel=data.get("channel") or None,
            location=data["location"].pk if data.get("location") else None,
            language=data.get("language") or None,
            segment=data["segment"].pk if data.get("segment") else None,
            status=data.get("status") or None,
            tier=data["tier"].pk if data.get("tier") else None,
            band=data.get("band") or None,
            stars=data.get("stars"),
            csat=data.get("csat") or None,
        )
