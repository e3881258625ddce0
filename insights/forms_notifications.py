"""Forms of the notifications pages: one's own preferences, a store's threshold alert and
the weekly report's schedule."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from communities.models import Location, Organisation, User
from communities.permissions import READ_RESULTS_ROLES
from insights.models import NotificationPreference
from insights.models.notifications import ALERT_WINDOWS, Weekday


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["case_assigned", "case_overdue", "digest", "scheduled_report"]
        widgets = {"digest": forms.RadioSelect}
        help_texts = {
            "case_assigned": _("An email as soon as someone assigns a case to you."),
            "case_overdue": _("An email when a case assigned to you passes its due time."),
            "digest": _(
                "New cases, the change in NPS and the most negative comments per store, "
                "in the morning of your organisation's time zone."
            ),
        }


def _staff(organisation: Organisation, roles=None):
    # One filter() call, so the role is the one held in this organisation.
    held = {"staff_roles__organisation": organisation}
    if roles is not None:
        held["staff_roles__role__in"] = roles
    return User.objects.filter(is_active=True, **held).order_by("name", "email").distinct()


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.name} <{obj.email}>" if obj.name else obj.email


def _window_label(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext_lazy("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext_lazy("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


class ThresholdAlertForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Store"), queryset=Location.objects.none())
    threshold = forms.IntegerField(
        label=_("Alert when there are more than this many negative answers"),
        min_value=1,
        max_value=1000,
        help_text=_("Negative: NPS 0–6, or 1–2 stars or CSAT faces."),
    )
    window_minutes = forms.TypedChoiceField(label=_("Within"), coerce=int, initial=60)
    recipients = StaffChoiceField(
        label=_("Email these staff"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, organisation: Organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.for_organisation(organisation).order_by(
            "name"
        )
        self.fields["window_minutes"].choices = [(m, _window_label(m)) for m in ALERT_WINDOWS]
        self.fields["recipients"].queryset = _staff(organisation)


class ReportScheduleForm(forms.Form):
    active = forms.BooleanField(label=_("Send the weekly report"), required=False)
    weekday = forms.TypedChoiceField(label=_("Day"), coerce=int, choices=Weekday.choices)
    hour = forms.TypedChoiceField(
        label=_("Hour"),
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        help_text=_("In the organisation's time zone."),
    )
    recipients = StaffChoiceField(
        label=_("Recipients"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Owners, admins and analysts: the report shows results."),
    )

    def __init__(self, *args, organisation: Organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipients"].queryset = _staff(organisation, READ_RESULTS_ROLES)
