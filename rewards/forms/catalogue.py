"""Staff forms of the reward catalogue: a reward (with its name and description in the
site's other languages and its image), the list's filter, a voucher CSV upload.

The catalogue services are the authority on what is valid (a voucher's stock, the window's
order, the image's content); these forms shape the input and offer only the organisation's
communities.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.models import Community, Organisation
from rewards.choices import RewardKind
from rewards.models import Reward
from rewards.services.catalogue import (
    COST_MAX,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PER_MEMBER_LIMIT_MAX,
    STOCK_MAX,
)
from rewards.services.vouchers import VOUCHER_UPLOAD_MAX_BYTES

IMAGE_ACCEPT = "image/png,image/jpeg,image/webp,image/gif"
# The fields the reward services take, in the order they take them.
REWARD_FIELDS = (
    "community",
    "kind",
    "name",
    "description",
    "cost",
    "stock",
    "per_member_limit",
    "available_from",
    "available_until",
    "auto_approve",
    "active",
)


def language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


class ZonedDateTimeField(forms.DateTimeField):
    """A date and time entered, and shown, as wall-clock time in the organisation's zone
    (`time_zone`, set by the form), whatever zone the server runs in."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    time_zone: datetime.tzinfo = datetime.UTC

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.make_naive(value, self.time_zone)
        return value

    def to_python(self, value: Any) -> datetime.datetime | None:
        # Django reads the wall-clock time in the current zone; it was meant in the
        # organisation's.
        result = super().to_python(value)
        if result is None:
            return None
        naive = timezone.make_naive(result, timezone.get_current_timezone())
        return timezone.make_aware(naive, self.time_zone)


class CommunityChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Community.objects.none(),
            error_messages={"invalid_choice": _("Choose one of your organisation's communities.")},
            **kwargs,
        )


class RewardForm(forms.Form):
    community = CommunityChoiceField(
        label=_("Community"),
        required=False,
        empty_label=_("Every community of the organisation"),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=RewardKind.choices,
        help_text=_(
            "A voucher hands out one of the codes you upload; a physical item asks the member "
            "for an address; a donation or a perk is delivered by your team."
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_LENGTH)
    description = forms.CharField(
        label=_("Description"),
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    image = forms.FileField(
        label=_("Image"),
        required=False,
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    image_clear = forms.BooleanField(label=_("Remove the current image"), required=False)
    cost = forms.IntegerField(label=_("Cost in points"), min_value=1, max_value=COST_MAX)
    stock = forms.IntegerField(
        label=_("Stock"),
        required=False,
        min_value=0,
        max_value=STOCK_MAX,
        help_text=_(
            "Items left. Empty: unlimited. Leave empty for a voucher: its stock is its "
            "unused codes."
        ),
    )
    per_member_limit = forms.IntegerField(
        label=_("Most one member may redeem"),
        required=False,
        min_value=1,
        max_value=PER_MEMBER_LIMIT_MAX,
        help_text=_("Empty: no limit."),
    )
    available_from = ZonedDateTimeField(label=_("Available from"), required=False)
    available_until = ZonedDateTimeField(label=_("Available until"), required=False)
    auto_approve = forms.BooleanField(
        label=_("Approve requests automatically"),
        required=False,
        help_text=_("Otherwise each request waits in the approval queue."),
    )
    active = forms.BooleanField(label=_("Offered to members"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        organisation: Organisation,
        time_zone: datetime.tzinfo,
        reward: Reward | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.time_zone = time_zone
        self.fields["community"].queryset = Community.objects.for_organisation(
            organisation
        ).order_by("name", "pk")
        zone_name = getattr(time_zone, "key", str(time_zone))
        for field in ("available_from", "available_until"):
            self.fields[field].time_zone = time_zone
            self.fields[field].help_text = _("In the organisation's time zone (%(zone)s).") % {
                "zone": zone_name
            }
        self.default_language = organisation.default_language
        self.fields["name"].help_text = _("In %(language)s, the organisation's language.") % {
            "language": language_name(self.default_language)
        }
        self.other_languages = [
            code for code, _name in settings.LANGUAGES if code != self.default_language
        ]
        direction = {"dir": "auto"}
        for code in self.other_languages:
            self.fields[f"name_{code}"] = forms.CharField(
                label=_("Name"),
                max_length=NAME_MAX_LENGTH,
                required=False,
                widget=forms.TextInput(attrs={"lang": code, **direction}),
            )
            self.fields[f"description_{code}"] = forms.CharField(
                label=_("Description"),
                max_length=DESCRIPTION_MAX_LENGTH,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "lang": code, **direction}),
            )
        self.fields["name"].widget.attrs.update(lang=self.default_language, **direction)
        self.fields["description"].widget.attrs.update(lang=self.default_language, **direction)
        if reward is None or not reward.image:
            del self.fields["image_clear"]

    def language_sections(self) -> list[dict[str, Any]]:
        """The other languages' fields, one section each, for the template."""
        return [
            {
                "code": code,
                "name": language_name(code),
                "fields": [self[f"name_{code}"], self[f"description_{code}"]],
            }
            for code in self.other_languages
        ]

    def reward_fields(self) -> dict[str, Any]:
        """The cleaned data as the reward services take it."""
        data = self.cleaned_data
        fields = {name: data.get(name) for name in REWARD_FIELDS}
        fields["translations"] = {
            code: {
                "name": data.get(f"name_{code}", ""),
                "description": data.get(f"description_{code}", ""),
            }
            for code in self.other_languages
        }
        fields["image"] = data.get("image") or None
        return fields

    @staticmethod
    def initial_from(reward: Reward) -> dict[str, Any]:
        initial = {name: getattr(reward, name) for name in REWARD_FIELDS}
        initial["community"] = reward.community_id
        for code, entry in (reward.translations or {}).items():
            initial[f"name_{code}"] = entry.get("name", "")
            initial[f"description_{code}"] = entry.get("description", "")
        return initial


class RewardFilterForm(forms.Form):
    """The catalogue list's filter: a community, offered or withdrawn rewards."""

    community = CommunityChoiceField(
        label=_("Community"), required=False, empty_label=_("All communities")
    )
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", _("Offered")), ("0", pgettext_lazy("reward", "Withdrawn"))],
        error_messages={"invalid_choice": _("Choose a status from the list.")},
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.for_organisation(
            organisation
        ).order_by("name", "pk")

    def filters(self) -> dict[str, Any]:
        """The selector's keyword filters; none from a filter that did not validate."""
        if not self.is_valid():
            return {}
        active = self.cleaned_data.get("active")
        return {
            "community": self.cleaned_data.get("community"),
            "active": None if active in ("", None) else active == "1",
        }


class VoucherUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file of codes"),
        help_text=_(
            "UTF-8 text, at most 1 MB and 50,000 codes: one code per line, or a column "
            "called “code”."
        ),
        widget=forms.FileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > VOUCHER_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 1 MB. Split it and upload the parts."),
                code="too_large",
            )
        return upload
