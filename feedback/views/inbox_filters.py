"""The inbox's filter form fields, written out in Python with the markup crispy's
Bootstrap 5 field template gives them (label, control, errors, help; the same ids, classes
and aria attributes, which Django's BoundField works out).

Through crispy and Django's widget templates the eleven fields (with an option for every
agent, team, survey and store) cost as much as the rest of the inbox page; this is the
same HTML for a fraction of it."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def _feedback(field: forms.BoundField) -> SafeString:
    errors = format_html_join(
        "",
        '<p id="error_{}_{}"><strong>{}</strong></p>',
        ((n, field.auto_id, error) for n, error in enumerate(field.errors, start=1)),
    )
    html = (
        format_html('<div id="{}_error" class="invalid-feedback">{}</div>', field.auto_id, errors)
        if field.errors
        else ""
    )
    if field.help_text:
        html = format_html(
            '{}<div id="{}_helptext" class="form-text">{}</div>',
            html,
            field.auto_id,
            field.help_text,
        )
    return mark_safe(html)  # noqa: S308 - built from format_html parts only


def _attrs(field: forms.BoundField, css: str) -> dict:
    attrs = field.build_widget_attrs({**field.field.widget.attrs})
    attrs["class"] = f"{css} is-invalid" if field.errors else css
    attrs["id"] = field.auto_id
    return attrs


def _select(field: forms.BoundField) -> SafeString:
    value = field.value()
    chosen = {"" if value is None else str(value)}
    options = format_html_join(
        "\n",
        '<option value="{}"{}>{}</option>',
        (
            (str(key), mark_safe(" selected") if str(key) in chosen else "", label)
            for key, label in field.field.choices
        ),
    )
    attrs = _attrs(field, "select form-select")
    return format_html(
        '<select name="{}"{}>\n{}\n</select>', field.html_name, flatatt(attrs), options
    )


def _input(field: forms.BoundField, css: str) -> SafeString:
    widget = field.field.widget
    attrs = _attrs(field, css)
    attrs["type"] = widget.input_type
    value = widget.format_value(field.value())
    if value is not None:
        attrs["value"] = value
    return format_html('<input name="{}"{}>', field.html_name, flatatt(attrs))


def _labelled(field: forms.BoundField, control: SafeString) -> SafeString:
    return format_html(
        '<div id="div_{}" class="mb-3"><label for="{}" class="form-label">{}</label>{}{}</div>',
        field.auto_id,
        field.auto_id,
        field.label,
        control,
        _feedback(field),
    )


def filter_fields_html(form: forms.Form) -> dict[str, SafeString]:
    """Each field of the inbox's filter form as crispy would render it, by name."""
    fields = {}
    for name in form.fields:
        field = form[name]
        widget = field.field.widget
        if isinstance(widget, forms.CheckboxInput):
            attrs = _attrs(field, "checkboxinput form-check-input")
            attrs["type"] = "checkbox"
            if widget.check_test(field.value()):
                attrs["checked"] = True
            fields[name] = format_html(
                '<div class="mb-3"><div id="div_{}" class="form-check"><input name="{}"{}>'
                '<label for="{}" class="form-check-label">{}</label>{}</div></div>',
                field.auto_id,
                field.html_name,
                flatatt(attrs),
                field.auto_id,
                field.label,
                _feedback(field),
            )
        elif isinstance(widget, forms.Select):
            fields[name] = _labelled(field, _select(field))
        else:
            css = f"{type(widget).__name__.lower()} form-control"
            fields[name] = _labelled(field, _input(field, css))
    return fields
