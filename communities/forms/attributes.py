"""Custom attributes in forms: one field per attribute, how a stored value reads, and putting
a service's ValidationError back next to the field it names.

Services stay the authority on what is valid; forms shape the input.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation

from communities.choices import AttributeKind
from communities.models import AttributeDefinition

# Filters name attribute conditions `a_<key>`; forms that set a member's values `attr_<key>`.
ATTRIBUTE_PREFIX = "a_"
VALUE_PREFIX = "attr_"


def attribute_label(definition: AttributeDefinition) -> str:
    language = translation.get_language() or "en"
    return definition.label.get(language) or definition.label_text


def attribute_display(definition: AttributeDefinition, value: Any) -> str:
    """A stored value as people read it: a choice's label in the current language."""
    if value in (None, ""):
        return ""
    if definition.kind == AttributeKind.CHOICE:
        return dict(attribute_choices(definition)).get(str(value), str(value))
    return str(value)


def attribute_choices(definition: AttributeDefinition) -> list[tuple[str, str]]:
    language = translation.get_language() or "en"
    return [
        (
            str(option.get("value")),
            (option.get("label") or {}).get(language)
            or (option.get("label") or {}).get("en")
            or str(option.get("value")),
        )
        for option in definition.options
    ]


def service_errors_apply(
    form: forms.Form, exc: ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form, next to the field it names.

    `field_map` renames service fields to form fields; attribute keys land on their
    `attr_<key>` field; anything without a field becomes a form-wide error.
    """
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    keys = {d.key for d in getattr(form, "definitions", [])}
    for name, messages in exc.message_dict.items():
        target = VALUE_PREFIX + name if name in keys else (field_map or {}).get(name, name)
        for message in messages:
            form.add_error(target if target in form.fields else None, message)


def attribute_field(definition: AttributeDefinition, language: str | None = None) -> forms.Field:
    """A form field for one attribute value; `attributes_clean` stays the one validator.

    Every kind is a text input underneath: a ChoiceField or DecimalField would refuse a
    stale option or a bad number in Django's own words before the service could list
    what is allowed, and staff and member pages must say the same thing.
    """
    language = language or translation.get_language() or "en"
    common: dict[str, Any] = {
        "label": definition.label.get(language) or definition.label_text,
        "required": False,
    }
    if definition.kind == AttributeKind.CHOICE:
        with translation.override(language):
            choices = [("", "—"), *attribute_choices(definition)]
        return forms.CharField(widget=forms.Select(choices=choices), max_length=200, **common)
    if definition.kind == AttributeKind.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if definition.kind == AttributeKind.NUMBER:
        return forms.CharField(
            widget=forms.TextInput(attrs={"inputmode": "decimal"}), max_length=40, **common
        )
    return forms.CharField(max_length=200, **common)


class AttributeFieldsMixin:
    """Adds one field per custom attribute (`attr_<key>`) and collects their values."""

    def add_attribute_fields(
        self,
        definitions: list[AttributeDefinition],
        language: str | None = None,
        initial: dict | None = None,
    ) -> None:
        self.definitions = definitions
        for definition in definitions:
            name = VALUE_PREFIX + definition.key
            field = attribute_field(definition, language)
            if definition.required:
                field.label = f"{field.label} *"
                field.widget.attrs["aria-required"] = "true"
            self.fields[name] = field
            if initial and definition.key in initial:
                self.initial[name] = initial[definition.key]

    def attribute_values(self) -> dict[str, Any]:
        return {d.key: self.cleaned_data.get(VALUE_PREFIX + d.key, "") for d in self.definitions}

    def add_service_errors(
        self, exc: ValidationError, field_map: dict[str, str] | None = None
    ) -> None:
        service_errors_apply(self, exc, field_map)
