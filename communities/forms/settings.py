"""The staff form for the organisation's settings.

organisation_settings_update is the authority on what is valid; this form shapes the input
and says the same limits up front.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from communities.models import Organisation
from communities.services.organisations import (
    AUDIT_RETENTION_DAYS_RANGE,
    CONTACT_LIMIT_DAYS_RANGE,
    MIN_GROUP_SIZE_RANGE,
    POOL_MAX_DAYS_RANGE,
    SETTINGS_FIELDS,
    time_zone_names,
)

COLOUR_ERROR = _("Enter a colour as # and six hex digits, like #0d6efd.")


def _days(bounds: tuple[int, int], **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(min_value=bounds[0], max_value=bounds[1], **kwargs)


class OrganisationSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    default_language = forms.ChoiceField(
        label=_("Default language"),
        choices=settings.LANGUAGES,
        help_text=_("Pages and emails start in this language when a person has not chosen one."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Dates and times on staff pages, and survey opening times, use this zone."),
    )
    min_group_size = forms.IntegerField(
        label=_("Minimum report group size"),
        min_value=MIN_GROUP_SIZE_RANGE[0],
        max_value=MIN_GROUP_SIZE_RANGE[1],
        help_text=_(
            "Reports never show a breakdown for fewer people than this, so nobody can be "
            "singled out."
        ),
    )
    anonymous_pool_max_days = _days(
        POOL_MAX_DAYS_RANGE,
        label=_("Longest wait for anonymous answers (days)"),
        required=False,
        help_text=_(
            "Anonymous answers are released in groups. After this many days a smaller group "
            "is released, at some cost in anonymity. Empty: wait until the group is full or "
            "the survey closes."
        ),
    )
    contact_limit_days = _days(
        CONTACT_LIMIT_DAYS_RANGE,
        label=_("Days between survey emails to one person"),
        help_text=_("0 means no limit."),
    )
    contact_limit_followups = forms.BooleanField(
        label=_("Follow-up emails count towards this limit"),
        required=False,
        help_text=_(
            "Survey invitations always count. A follow-up email answers what the person told "
            "you, so by default it is sent even within the limit."
        ),
    )
    audit_retention_days = _days(
        AUDIT_RETENTION_DAYS_RANGE,
        label=_("Keep the audit log for (days)"),
        help_text=_(
            "Entries older than this are deleted every night. From 30 days to 10 years (3650 days)."
        ),
    )
    sender_name = forms.CharField(
        label=_("Sender name"),
        max_length=100,
        required=False,
        help_text=_("Emails to members come from this name. Empty: Chorus."),
    )
    reply_to_email = forms.EmailField(
        label=_("Reply-to address"),
        max_length=254,
        required=False,
        help_text=_("Replies to emails go here. Empty: the site's sender address."),
    )
    brand_colour = forms.RegexField(
        label=_("Brand colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        max_length=7,
        error_messages={"invalid": COLOUR_ERROR},
        help_text=_("Like #0d6efd."),
    )
    logo = forms.CharField(
        label=_("Logo address"),
        max_length=200,
        required=False,
        widget=forms.URLInput(attrs={"dir": "ltr"}),
        help_text=_("A full https:// address of the logo image."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in time_zone_names()]
        for name in ("reply_to_email", "brand_colour"):
            self.fields[name].widget.attrs["dir"] = "ltr"

    @staticmethod
    def initial_from(organisation: Organisation) -> dict[str, Any]:
        return {field: getattr(organisation, field) for field in SETTINGS_FIELDS}
