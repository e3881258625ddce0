"""Staff forms: organisations and the team, communities and their attributes, members (add,
invite, edit, import) and the member filter that lists and segments share.
"""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from communities.choices import AttributeKind, JoinMode, MemberStatus, Role
from communities.forms.attributes import (
    ATTRIBUTE_PREFIX,
    AttributeFieldsMixin,
    attribute_choices,
    attribute_label,
)
from communities.models import AttributeDefinition, Community, same_site_path_validator
from communities.models.organisations import API_ACCESS
from communities.services.attributes import ATTRIBUTE_LANGUAGES, ATTRIBUTE_OPTION_LIMIT
from communities.services.imports import IMPORT_MAX_BYTES

# --- organisations, the team, communities and attributes -----------------------------------

LANGUAGE_NAMES = dict(settings.LANGUAGES)
TEXT_LIMIT = 20_000  # consent and privacy texts: long, but not a whole book
DAYS_LIMIT = 3650


def role_choices(*, actor_role: str) -> list[tuple[str, str]]:
    """The roles this person may hand out: only an owner makes owners."""
    return [(value, label) for value, label in Role.choices if value != Role.OWNER] + (
        [(Role.OWNER, Role.OWNER.label)] if actor_role == Role.OWNER else []
    )


ROLE_HELP = _(
    "Owner and admin manage everything; an analyst reads results and changes nothing; "
    "an agent works follow-up cases only."
)


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=80,
        help_text=_("Lower-case letters, digits and hyphens; appears in your staff links."),
    )
    default_language = forms.ChoiceField(
        label=_("Default language"), choices=settings.LANGUAGES, initial="en"
    )


class ApiTokenForm(forms.Form):
    """A new key's name and scopes: read and write per area of the API, none by default."""

    AREA_LABELS = {
        "surveys": _("Surveys and events"),
        "responses": _("Responses"),
        "members": _("Communities and members"),
        "rewards": _("Rewards"),
        "cases": _("Cases"),
        "results": _("Results"),
        "webhooks": _("Webhooks"),
    }
    ACCESS_LABELS = {"read": _("read"), "write": _("write")}

    name = forms.CharField(label=_("What will use this key?"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("What may it do?"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Write includes read. Give a key only what its system needs."),
        error_messages={"required": _("Choose at least one scope.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [
            (f"{area}:{access}", format_lazy("{}: {}", label, self.ACCESS_LABELS[access]))
            for area, label in self.AREA_LABELS.items()
            for access in API_ACCESS
        ]

    def scope_rows(self) -> list[tuple[str, list]]:
        """(area label, [read checkbox, write checkbox]) per area, for the grid."""
        boxes = {box.data["value"]: box for box in self["scopes"]}
        return [
            (label, [boxes[f"{area}:{access}"] for access in API_ACCESS])
            for area, label in self.AREA_LABELS.items()
        ]

    @classmethod
    def scope_labels(cls, scopes: list[str]) -> list[str]:
        """A key's scopes as people read them, one per area: "Rewards: read and write"."""
        labels = []
        for area, label in cls.AREA_LABELS.items():
            if f"{area}:write" in scopes:
                labels.append(_("%(area)s: read and write") % {"area": label})
            elif f"{area}:read" in scopes:
                labels.append(_("%(area)s: read") % {"area": label})
        return labels


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), help_text=ROLE_HELP)

    def __init__(self, *args: Any, actor_role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor_role=actor_role)
        self.fields["role"].initial = Role.ANALYST


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, actor_role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor_role=actor_role)


class CommunityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=80,
        help_text=_("Lower-case letters, digits and hyphens; appears in the join page's link."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea({"rows": 2})
    )
    join_mode = forms.ChoiceField(
        label=_("Who can join"),
        choices=JoinMode.choices,
        help_text=_("Invite only: people join only from an invitation link staff send them."),
    )
    logo = forms.CharField(
        label=_("Logo"),
        required=False,
        max_length=200,
        validators=[same_site_path_validator],
        help_text=_(
            "A path on this site, like /static/img/logo.png: member pages never load images "
            "from other hosts."
        ),
    )
    brand_colour = forms.RegexField(
        label=_("Brand colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        required=False,
        max_length=7,
        error_messages={"invalid": _("Enter a colour as # and six hex digits, like #0d6efd.")},
        help_text=_("Like #0d6efd; empty uses the organisation's colour."),
    )
    welcome_text = forms.CharField(
        label=_("Welcome text on the join page"),
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 2}),
    )
    consent_text = forms.CharField(
        label=_("Consent text"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea({"rows": 4}),
        help_text=_("What members agree to when they tick the box on the join page."),
    )
    privacy_policy_text = forms.CharField(
        label=_("Privacy policy"), max_length=TEXT_LIMIT, widget=forms.Textarea({"rows": 6})
    )
    new_days = forms.IntegerField(
        label=_("Days a member counts as new"), min_value=1, max_value=DAYS_LIMIT, initial=30
    )
    lapsed_days = forms.IntegerField(
        label=_("Days without activity until lapsed"),
        min_value=1,
        max_value=DAYS_LIMIT,
        initial=90,
    )
    churned_days = forms.IntegerField(
        label=_("Days without activity until churned"),
        min_value=2,
        max_value=DAYS_LIMIT,
        initial=180,
    )

    @classmethod
    def initial_from(cls, community: Community) -> dict[str, Any]:
        return {name: getattr(community, name) for name in cls.base_fields}


def _options_text(options: list[dict[str, Any]]) -> str:
    lines = []
    for option in options:
        label = option.get("label") or {}
        parts = [str(option.get("value", ""))] + [
            label.get(code, "") for code in ATTRIBUTE_LANGUAGES
        ]
        while parts and not parts[-1]:
            parts.pop()
        lines.append(" | ".join(parts))
    return "\n".join(lines)


class AttributeForm(forms.Form):
    key = forms.SlugField(
        label=_("Key"),
        max_length=40,
        help_text=_("How the value is stored and named in CSV files, e.g. age_band."),
    )
    label_en = forms.CharField(label=_("Label in English"), max_length=100)
    label_th = forms.CharField(label=_("Label in Thai"), max_length=100, required=False)
    label_he = forms.CharField(label=_("Label in Hebrew"), max_length=100, required=False)
    label_ja = forms.CharField(label=_("Label in Japanese"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=AttributeKind.choices)
    options = forms.CharField(
        label=_("Options (single choice)"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea({"rows": 5, "dir": "auto"}),
        help_text=_(
            "One option per line: value | English | Thai | Hebrew | Japanese. "
            "The labels after English are optional. Example: 18-24 | 18 to 24"
        ),
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    ask_on_join = forms.BooleanField(label=_("Ask on the join page"), required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=1000, initial=0)

    def __init__(self, *args: Any, definition: AttributeDefinition | None = None, **kwargs):
        if definition is not None:
            kwargs.setdefault("initial", self.initial_from(definition))
        super().__init__(*args, **kwargs)
        if definition is not None:
            # The key names stored values and CSV columns; it stays as it was made.
            self.fields["key"].disabled = True
            self.fields["key"].help_text = _("The key cannot change once members may hold values.")

    @classmethod
    def initial_from(cls, definition: AttributeDefinition) -> dict[str, Any]:
        return {
            "key": definition.key,
            **{f"label_{code}": definition.label.get(code, "") for code in ATTRIBUTE_LANGUAGES},
            "kind": definition.kind,
            "options": _options_text(definition.options),
            "required": definition.required,
            "ask_on_join": definition.ask_on_join,
            "position": definition.position,
        }

    def clean_options(self) -> list[dict[str, Any]]:
        options = []
        for number, line in enumerate(self.cleaned_data.get("options", "").splitlines(), 1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) > 1 + len(ATTRIBUTE_LANGUAGES):
                raise ValidationError(
                    _("Line %(line)d has more than five parts.") % {"line": number}
                )
            value, labels = parts[0], parts[1:]
            label = {
                code: text for code, text in zip(ATTRIBUTE_LANGUAGES, labels, strict=False) if text
            }
            options.append({"value": value, "label": label or {"en": value}})
            if len(options) > ATTRIBUTE_OPTION_LIMIT:
                raise ValidationError(
                    _("At most %(limit)d options.") % {"limit": ATTRIBUTE_OPTION_LIMIT}
                )
        return options

    def label(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"label_{code}", "") for code in ATTRIBUTE_LANGUAGES}


# --- members: add, invite, edit, import ----------------------------------------------------


def _language_choices() -> list[tuple[str, str]]:
    return [(code, name) for code, name in settings.LANGUAGES]


class MemberAddForm(AttributeFieldsMixin, forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    locale = forms.ChoiceField(label=_("Language"))
    consent = forms.BooleanField(
        label=_("This person agreed to join and to the community terms."),
        error_messages={
            "required": _("Add people only with their agreement: tick the box to confirm it.")
        },
    )

    def __init__(self, *args, community, definitions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = _language_choices()
        self.fields["locale"].initial = community.organisation.default_language
        consent = self.fields.pop("consent")
        self.add_attribute_fields(definitions)
        self.fields["consent"] = consent
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Add member")))


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    locale = forms.ChoiceField(label=_("Language of the invitation"))

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = _language_choices()
        self.fields["locale"].initial = community.organisation.default_language
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Send invitation")))


class MemberEditForm(AttributeFieldsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    locale = forms.ChoiceField(label=_("Language"))

    def __init__(self, *args, member, definitions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = _language_choices()
        self.fields["name"].initial = member.name
        self.fields["locale"].initial = member.locale
        self.add_attribute_fields(definitions, initial=member.attributes)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save")))


class MemberImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 (in Excel: “CSV UTF-8”), at most 20 MB. The first row names the columns: "
            "email (required), name, phone, language, and any of this community’s attribute "
            "keys."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    consent_confirmed = forms.BooleanField(
        label=_("Everyone in this file agreed to join this community and to its terms."),
        error_messages={
            "required": _(
                "Import only people who agreed to join: tick the box to confirm they did."
            )
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)d MB. Split it and upload the parts.")
                % {"mb": IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return upload

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Upload and check")))


# --- member filters: the member list and segments build the same filter -------------------

DAYS = {"min_value": 1, "max_value": 3650, "required": False}


class MemberFilterForm(forms.Form):
    """Builds a filter for selectors.members_matching from form fields.

    Per attribute: a choice gives checkboxes ("is one of"), text a "contains" box, a
    number a minimum and maximum, a date a from and to.
    """

    search = forms.CharField(label=_("Name or email contains"), max_length=200, required=False)
    status = forms.MultipleChoiceField(
        label=_("Status"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(v, label) for v, label in MemberStatus.choices if v != MemberStatus.ERASED],
    )
    active_within_days = forms.IntegerField(label=_("Active in the last … days"), **DAYS)
    inactive_for_days = forms.IntegerField(label=_("Inactive for at least … days"), **DAYS)
    joined_within_days = forms.IntegerField(label=_("Joined in the last … days"), **DAYS)

    def __init__(self, *args, definitions: list[AttributeDefinition], **kwargs):
        super().__init__(*args, **kwargs)
        self.definitions = definitions
        for definition in definitions:
            label = attribute_label(definition)
            name = ATTRIBUTE_PREFIX + definition.key
            if definition.kind == AttributeKind.CHOICE:
                self.fields[name] = forms.MultipleChoiceField(
                    label=label,
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    choices=attribute_choices(definition),
                )
            elif definition.kind == AttributeKind.NUMBER:
                self.fields[name + "_min"] = forms.DecimalField(
                    label=_("%(label)s at least") % {"label": label}, required=False
                )
                self.fields[name + "_max"] = forms.DecimalField(
                    label=_("%(label)s at most") % {"label": label}, required=False
                )
            elif definition.kind == AttributeKind.DATE:
                date = {"widget": forms.DateInput(attrs={"type": "date"}), "required": False}
                self.fields[name + "_from"] = forms.DateField(
                    label=_("%(label)s from") % {"label": label}, **date
                )
                self.fields[name + "_to"] = forms.DateField(
                    label=_("%(label)s to") % {"label": label}, **date
                )
            else:
                self.fields[name] = forms.CharField(
                    label=_("%(label)s contains") % {"label": label},
                    required=False,
                    max_length=200,
                )

    def filter(self) -> dict[str, Any]:
        """The filter the valid form describes (uncleaned: services.segment_filter_clean)."""
        data = self.cleaned_data
        result: dict[str, Any] = {}
        if data.get("search"):
            result["search"] = data["search"]
        if data.get("status"):
            result["status"] = data["status"]
        for key in ("active_within_days", "inactive_for_days", "joined_within_days"):
            if data.get(key):
                result[key] = data[key]
        attributes: dict[str, dict[str, Any]] = {}
        for definition in self.definitions:
            name = ATTRIBUTE_PREFIX + definition.key
            condition: dict[str, Any] = {}
            if definition.kind == AttributeKind.CHOICE:
                if data.get(name):
                    condition["in"] = data[name]
            elif definition.kind == AttributeKind.NUMBER:
                for suffix, operator in (("_min", "gte"), ("_max", "lte")):
                    if data.get(name + suffix) is not None:
                        condition[operator] = str(data[name + suffix])
            elif definition.kind == AttributeKind.DATE:
                for suffix, operator in (("_from", "gte"), ("_to", "lte")):
                    if data.get(name + suffix) is not None:
                        condition[operator] = data[name + suffix].isoformat()
            elif data.get(name):
                condition["contains"] = data[name]
            if condition:
                attributes[definition.key] = condition
        if attributes:
            result["attributes"] = attributes
        return result

    @classmethod
    def initial_from(cls, filter: dict[str, Any]) -> dict[str, Any]:
        """Form values that describe a stored filter (to edit a segment)."""
        initial: dict[str, Any] = {
            key: filter[key]
            for key in (
                "search",
                "status",
                "active_within_days",
                "inactive_for_days",
                "joined_within_days",
            )
            if key in filter
        }
        suffixes = {"gte": ("_min", "_from"), "lte": ("_max", "_to")}
        for key, condition in (filter.get("attributes") or {}).items():
            name = ATTRIBUTE_PREFIX + key
            for operator, value in condition.items():
                if operator == "in" or operator == "contains":
                    initial[name] = value
                else:
                    for suffix in suffixes[operator]:
                        initial[name + suffix] = value
        return initial

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put segment_filter_clean's errors ("attributes.city", "status") on their fields."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for where, messages in exc.message_dict.items():
            target = where
            if where.startswith("attributes."):
                key = where.split(".", 1)[1]
                candidates = [ATTRIBUTE_PREFIX + key + suffix for suffix in ("", "_min", "_from")]
                target = next((c for c in candidates if c in self.fields), None)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)


class SegmentForm(MemberFilterForm):
    name = forms.CharField(label=_("Segment name"), max_length=200)

    field_order = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["name"])
