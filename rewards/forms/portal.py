"""The member's redeem form: a confirmation, the shipping address for a physical item, and
a one-time token so that pressing the button twice redeems once."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rewards.choices import RewardKind

ADDRESS_MAX_LENGTH = 1000
TOKEN_PATTERN = r"^[0-9a-f]{32}$"


def redeem_token_new() -> str:
    return secrets.token_hex(16)


class RedeemForm(forms.Form):
    shipping_address = forms.CharField(
        label=_("Shipping address"),
        help_text=_("Name, street, city, postcode and country, as the parcel should show it."),
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "shipping street-address"}),
        max_length=ADDRESS_MAX_LENGTH,
        required=False,
        error_messages={
            "max_length": _("Keep the address under 1,000 characters."),
        },
    )
    token = forms.RegexField(
        regex=TOKEN_PATTERN,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form has expired. Check the details and confirm again."),
            "invalid": _("This form has expired. Check the details and confirm again."),
        },
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == RewardKind.PHYSICAL:
            self.fields["shipping_address"].required = True
            self.fields["shipping_address"].error_messages["required"] = _(
                "Enter the address to ship it to."
            )
        else:
            del self.fields["shipping_address"]
