"""The staff form for a store (location): the location services are the authority on what
is valid; this form shapes the input and offers only the organisation's staff as managers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from communities.models import Location, User
from communities.services.locations import CODE_MAX_LENGTH, NAME_MAX_LENGTH


class StaffUserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        return f"{user.name} ({user.email})" if user.name else user.email


class LocationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_LENGTH)
    code = forms.CharField(
        label=_("Code"),
        max_length=CODE_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocapitalize": "none"}),
        help_text=_(
            "Lower-case letters a–z, digits and hyphens; unique among your stores. Other "
            "systems and reports name the store by it. Empty: made from the name."
        ),
    )
    language = forms.ChoiceField(
        label=_("Kiosk language"),
        required=False,
        help_text=_("The language the store's kiosks start in."),
    )
    manager = StaffUserChoiceField(
        label=_("Manager"),
        required=False,
        queryset=User.objects.none(),
        empty_label=_("No manager"),
        error_messages={"invalid_choice": _("Choose the manager among your organisation's staff.")},
    )

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = staff
        self.fields["language"].choices = [
            ("", _("The organisation's default language")),
            *settings.LANGUAGES,
        ]

    @staticmethod
    def initial_from(location: Location) -> dict[str, Any]:
        return {
            "name": location.name,
            "code": location.code,
            "language": location.language,
            "manager": location.manager_id,
        }
