"""The member-facing forms: join (or accept an invitation), profile, erase my data."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from communities.forms.attributes import (
    AttributeFieldsMixin,
)
from communities.models import AttributeDefinition
from communities.services.common import email_clean

NAME_MAX_LENGTH = 200


class JoinForm(AttributeFieldsMixin, forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=NAME_MAX_LENGTH, required=False)
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    consent = forms.BooleanField(
        required=True,
        error_messages={
            "required": _("Please accept the community terms and privacy policy to join.")
        },
    )
    marketing = forms.BooleanField(
        label=_("Also send me news and offers (optional; you can stop them at any time)."),
        required=False,
    )
    ref = forms.CharField(required=False, max_length=16, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        definitions: list[AttributeDefinition],
        language: str,
        fixed_email: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.add_attribute_fields(definitions, language)
        if fixed_email:
            # An invitation link proved the address; it is shown, not posted.
            del self.fields["email"]
            del self.fields["ref"]
        self.fixed_email = fixed_email

    def clean_email(self) -> str:
        return email_clean(self.cleaned_data["email"])


class ProfileForm(AttributeFieldsMixin, forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=NAME_MAX_LENGTH, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(
        self,
        *args: Any,
        definitions: list[AttributeDefinition],
        language: str,
        attributes: dict | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.add_attribute_fields(definitions, language, initial=attributes)


class EraseForm(forms.Form):
    confirmation = forms.CharField(label=_("Type it here"), max_length=254)
