"""Staff forms of a community's earning rules, expiry policy and tiers.

The services (rewards.services.earning) are the authority on what is valid; these forms
shape the page's input (whole numbers within bounds, a choice among the offered ones), so
a negative, fractional or absurd number gets an error next to its field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rewards.choices import TierBasis
from rewards.models import RewardsPolicy, Tier
from rewards.services.earning import (
    DISCOUNT_MAX,
    EXPIRY_MONTHS_MAX,
    NOTICE_DAYS_MAX,
    POINTS_MAX,
    THRESHOLD_MAX,
    TIER_NAME_MAX,
    WINDOW_MONTHS_MAX,
)

EXPIRY_NEVER = "never"
EXPIRY_INACTIVITY = "inactivity"


def _whole(label, *, low: int, high: int, help_text: str = "", required: bool = True):
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        required=required,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
    )


class RewardsPolicyForm(forms.Form):
    join_points = _whole(
        _("Welcome points"),
        low=0,
        high=POINTS_MAX,
        help_text=_("Given once when a member confirms their membership. 0: none."),
    )
    profile_points = _whole(
        _("Points for completing the profile"),
        low=0,
        high=POINTS_MAX,
        help_text=_("Given once when the name and every required attribute are filled in."),
    )
    referral_points = _whole(
        _("Points for a referral"),
        low=0,
        high=POINTS_MAX,
        help_text=_("Given to the member who referred someone, once that person confirms."),
    )
    poll_points = _whole(
        _("Points for voting in a poll"),
        low=0,
        high=POINTS_MAX,
        help_text=_("For polls that offer no points of their own; a poll's own points win."),
    )
    expiry = forms.ChoiceField(
        label=_("Points expire"),
        choices=[
            (EXPIRY_NEVER, _("Never")),
            (EXPIRY_INACTIVITY, _("After some months without activity")),
        ],
        widget=forms.RadioSelect,
    )
    expiry_months = _whole(
        _("Months without activity before points expire"),
        low=1,
        high=EXPIRY_MONTHS_MAX,
        required=False,
    )
    warning_days = _whole(_("Warning email, days before expiry"), low=1, high=NOTICE_DAYS_MAX)
    last_chance_days = _whole(
        _("Last-chance email, days before expiry"),
        low=1,
        high=NOTICE_DAYS_MAX,
        help_text=_("Fewer days than the warning: it comes after it."),
    )
    tier_basis = forms.ChoiceField(
        label=_("Tiers count"), choices=TierBasis.choices, widget=forms.RadioSelect
    )
    tier_window_months = _whole(
        _("Months counted, for tiers by recent points"),
        low=1,
        high=WINDOW_MONTHS_MAX,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("expiry") == EXPIRY_INACTIVITY
            and data.get("expiry_months") is None
            and "expiry_months" not in self.errors
        ):
            self.add_error("expiry_months", _("Say after how many months without activity."))
        return data

    def policy_fields(self) -> dict[str, Any]:
        """The cleaned values as rewards_policy_update takes them."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "join_points",
                "profile_points",
                "referral_points",
                "poll_points",
                "warning_days",
                "last_chance_days",
                "tier_basis",
                "tier_window_months",
            )
        }
        fields["expiry_months"] = (
            data["expiry_months"] if data["expiry"] == EXPIRY_INACTIVITY else None
        )
        return fields

    @staticmethod
    def initial_from(policy: RewardsPolicy) -> dict[str, Any]:
        return {
            "join_points": policy.join_points,
            "profile_points": policy.profile_points,
            "referral_points": policy.referral_points,
            "poll_points": policy.poll_points,
            "expiry": EXPIRY_NEVER if policy.expiry_months is None else EXPIRY_INACTIVITY,
            "expiry_months": policy.expiry_months,
            "warning_days": policy.warning_days,
            "last_chance_days": policy.last_chance_days,
            "tier_basis": policy.tier_basis,
            "tier_window_months": policy.tier_window_months,
        }


class TierForm(forms.Form):
    """A tier: a name per language (the organisation's default one required), the points
    that reach it, and its discount on rewards."""

    threshold = _whole(
        _("Points earned to reach it"),
        low=0,
        high=THRESHOLD_MAX,
        help_text=_("Each tier of a community starts at a different number of points."),
    )
    discount_percent = _whole(
        _("Discount on rewards (%)"),
        low=0,
        high=DISCOUNT_MAX,
        help_text=_("Taken off every reward's cost for members in this tier; at most 90."),
    )

    def __init__(self, *args: Any, default_language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = {}
        for code, language in settings.LANGUAGES:
            names[f"name_{code}"] = forms.CharField(
                label=_("Name (%(language)s)") % {"language": language},
                max_length=TIER_NAME_MAX,
                required=code == default_language,
                widget=forms.TextInput(attrs={"lang": code, "dir": "auto"}),
            )
        # Names first, in the order of the site's languages.
        self.fields = {**names, **self.fields}

    def names(self) -> dict[str, str]:
        return {
            code: self.cleaned_data.get(f"name_{code}", "") for code, _name in settings.LANGUAGES
        }

    @staticmethod
    def initial_from(tier: Tier) -> dict[str, Any]:
        return {
            **{f"name_{code}": text for code, text in tier.names.items()},
            "threshold": tier.threshold,
            "discount_percent": tier.discount_percent,
        }
