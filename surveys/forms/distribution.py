"""Staff distribution forms: an email send and a kiosk registration."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Location, Organisation


class InvitationSendForm(forms.Form):
    """Who gets a personal link: a whole community, or a pasted list."""

    community = forms.ModelChoiceField(
        label=_("Everyone in a community"), queryset=Community.objects.none(), required=False
    )
    recipients = forms.CharField(
        label=_("Or these people, one per line: email, name"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5_000_000,
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.for_organisation(organisation)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Send the survey")))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("community") and cleaned.get("recipients", "").strip():
            raise ValidationError(_("Choose a community or paste a list, not both."))
        if not cleaned.get("community") and not cleaned.get("recipients", "").strip():
            raise ValidationError(_("Choose a community or paste a list."))
        return cleaned

    @property
    def recipient_pairs(self) -> list[tuple[str, str]]:
        pairs = []
        for line in self.cleaned_data.get("recipients", "").splitlines():
            if not line.strip():
                continue
            email, _sep, name = line.partition(",")
            pairs.append((email.strip(), name.strip()))
        return pairs


class KioskRegisterForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Store"), queryset=Location.objects.none())
    idle_reset_seconds = forms.IntegerField(
        label=_("Start over after this many idle seconds"), min_value=5, max_value=600, initial=30
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # An archived store takes no new kiosks (kiosk_register refuses it too).
        self.fields["location"].queryset = Location.objects.for_organisation(organisation).filter(
            archived_at__isnull=True
        )
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Register a kiosk")))
