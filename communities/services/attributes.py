"""Custom member attributes: their definitions, and checking a member's values against them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Func, JSONField
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from communities.choices import AttributeKind
from communities.models import AttributeDefinition, Community, Member, Segment

ATTRIBUTE_TEXT_LIMIT = 200


def community_attributes(*, community: Community) -> list[AttributeDefinition]:
    return list(AttributeDefinition.objects.filter(community=community))


def member_profile_complete(
    *, member: Member, definitions: list[AttributeDefinition] | None = None
) -> bool:
    """Whether the member's profile has a name and a value for every required attribute
    (`definitions`, the community's, when the caller has them already)."""
    if not (member.name or "").strip():
        return False
    if definitions is None:
        definitions = list(
            AttributeDefinition.objects.filter(community_id=member.community_id, required=True)
        )
    values = member.attributes or {}
    return all(values.get(d.key) not in (None, "") for d in definitions if d.required)


def attribute_value_clean(*, definition: AttributeDefinition, value: Any) -> Any:
    """One attribute value in its stored form (str, number, ISO date, option value)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if definition.required:
            raise ValidationError(_("This field is required."), code="required")
        return None
    if definition.kind == AttributeKind.TEXT:
        text = str(value).strip()
        if len(text) > ATTRIBUTE_TEXT_LIMIT:
            raise ValidationError(
                _("Keep this under %(limit)d characters.") % {"limit": ATTRIBUTE_TEXT_LIMIT},
                code="max_length",
            )
        return text
    if definition.kind == AttributeKind.NUMBER:
        if isinstance(value, bool):
            raise ValidationError(_("Enter a number."), code="invalid")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(_("Enter a number."), code="invalid") from None
        if not number.is_finite() or abs(number) >= Decimal("1e12"):
            raise ValidationError(_("Enter a number."), code="invalid")
        return int(number) if number == number.to_integral_value() else float(number)
    if definition.kind == AttributeKind.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid") from None
    allowed = [str(option.get("value")) for option in definition.options]
    if str(value).strip() not in allowed:
        raise ValidationError(
            _("Choose one of: %(options)s.") % {"options": ", ".join(allowed)},
            code="invalid_choice",
        )
    return str(value).strip()


def attributes_clean(
    *,
    community: Community,
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
    definitions: list[AttributeDefinition] | None = None,
) -> dict[str, Any]:
    """Validate attribute values against the community's definitions.

    `values` may hold some keys (a partial update over `current`); unknown keys are an
    error, not silently dropped. Returns the whole new attributes dict.
    """
    definitions = (
        definitions if definitions is not None else community_attributes(community=community)
    )
    by_key = {d.key: d for d in definitions}
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in by_key:
            errors[key] = [_("This community has no attribute “%(key)s”.") % {"key": key}]
    result = {k: v for k, v in (current or {}).items() if k in by_key}
    for key, definition in by_key.items():
        if key not in values and key in result:
            continue
        try:
            cleaned = attribute_value_clean(definition=definition, value=values.get(key))
        except ValidationError as exc:
            errors[key] = exc.messages
            continue
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    if errors:
        raise ValidationError(errors)
    return result


ATTRIBUTE_LANGUAGES = ("en", "th", "he", "ja")
ATTRIBUTE_LABEL_LIMIT = 100
ATTRIBUTE_OPTION_LIMIT = 100


def _attribute_label_clean(label: Mapping[str, Any]) -> dict[str, str]:
    clean = {}
    for language in ATTRIBUTE_LANGUAGES:
        text = str(label.get(language) or "").strip()
        if len(text) > ATTRIBUTE_LABEL_LIMIT:
            raise ValidationError(
                {
                    "label": [
                        _("Keep labels under %(limit)d characters.")
                        % {"limit": ATTRIBUTE_LABEL_LIMIT}
                    ]
                }
            )
        if text:
            clean[language] = text
    if "en" not in clean:
        raise ValidationError({"label": [_("Give the attribute an English label.")]})
    return clean


def _attribute_options_clean(*, kind: str, options: Any) -> list[dict[str, Any]]:
    if kind != AttributeKind.CHOICE:
        return []
    if not isinstance(options, list):
        raise ValidationError({"options": [_("List the options.")]})
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for option in options:
        if not isinstance(option, Mapping):
            raise ValidationError({"options": [_("List the options.")]})
        value = str(option.get("value") or "").strip()
        if not value or len(value) > ATTRIBUTE_LABEL_LIMIT:
            raise ValidationError(
                {
                    "options": [
                        _("Each option needs a value of at most %(limit)d characters.")
                        % {"limit": ATTRIBUTE_LABEL_LIMIT}
                    ]
                }
            )
        if value in seen:
            raise ValidationError(
                {"options": [_("The option “%(value)s” is listed twice.") % {"value": value}]}
            )
        seen.add(value)
        try:
            label = _attribute_label_clean(option.get("label") or {"en": value})
        except ValidationError as exc:
            raise ValidationError({"options": exc.message_dict["label"]}) from None
        clean.append({"value": value, "label": label})
    if len(clean) < 2:
        raise ValidationError({"options": [_("A single choice needs at least two options.")]})
    if len(clean) > ATTRIBUTE_OPTION_LIMIT:
        raise ValidationError(
            {"options": [_("At most %(limit)d options.") % {"limit": ATTRIBUTE_OPTION_LIMIT}]}
        )
    return clean


def attribute_value_counts(*, definition: AttributeDefinition) -> dict[str, int]:
    """How many members hold each stored value of the attribute (one GROUP BY)."""
    rows = (
        Member.objects.filter(community_id=definition.community_id)
        .filter(attributes__has_key=definition.key)
        .annotate(value=KeyTextTransform(definition.key, "attributes"))
        .values_list("value")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {str(value): n for value, n in rows}


def attribute_member_count(*, definition: AttributeDefinition) -> int:
    """How many members hold a value for the attribute."""
    return Member.objects.filter(
        community_id=definition.community_id, attributes__has_key=definition.key
    ).count()


@transaction.atomic
def attribute_create(
    *,
    community: Community,
    key: str,
    label: Mapping[str, Any],
    kind: str,
    options: list[dict[str, Any]] | None = None,
    required: bool = False,
    ask_on_join: bool = False,
    position: int = 0,
) -> AttributeDefinition:
    """A new custom attribute of the community, validated."""
    definition = AttributeDefinition(
        organisation_id=community.organisation_id,
        community=community,
        key=(key or "").strip().lower(),
        kind=kind,
        required=required,
        ask_on_join=ask_on_join,
        position=position,
    )
    definition.label = _attribute_label_clean(label)
    if kind not in AttributeKind.values:
        raise ValidationError({"kind": [_("Choose a kind.")]})
    definition.options = _attribute_options_clean(kind=kind, options=options or [])
    duplicate = ValidationError(
        {"key": [_("This community already has an attribute with this key.")]},
        code="duplicate",
    )
    if AttributeDefinition.objects.filter(community=community, key=definition.key).exists():
        raise duplicate
    definition.full_clean(exclude=["community", "organisation"])
    try:
        with transaction.atomic():
            definition.save()
    except IntegrityError:
        raise duplicate from None
    return definition


@transaction.atomic
def attribute_update(
    *,
    definition: AttributeDefinition,
    label: Mapping[str, Any],
    kind: str | None = None,
    options: list[dict[str, Any]] | None = None,
    required: bool = False,
    ask_on_join: bool = False,
    position: int = 0,
) -> AttributeDefinition:
    """Change an attribute. Its key stays; its kind changes only while no member holds a
    value; an option still chosen by members cannot be removed (the count is given)."""
    definition = AttributeDefinition.objects.select_for_update().get(pk=definition.pk)
    kind = kind or definition.kind
    if kind not in AttributeKind.values:
        raise ValidationError({"kind": [_("Choose a kind.")]})
    if kind != definition.kind:
        held = attribute_member_count(definition=definition)
        if held:
            raise ValidationError(
                {
                    "kind": [
                        ngettext(
                            "%(count)d member has a value for this attribute; "
                            "its kind cannot change.",
                            "%(count)d members have a value for this attribute; "
                            "its kind cannot change.",
                            held,
                        )
                        % {"count": held}
                    ]
                },
                code="in_use",
            )
    label = _attribute_label_clean(label)
    options = _attribute_options_clean(kind=kind, options=options or [])
    if kind == AttributeKind.CHOICE and definition.kind == AttributeKind.CHOICE:
        kept = {option["value"] for option in options}
        counts = attribute_value_counts(definition=definition)
        orphaned = {value: n for value, n in counts.items() if value not in kept}
        if orphaned:
            raise ValidationError(
                {
                    "options": [
                        ngettext(
                            "%(count)d member chose “%(value)s”; keep that option or "
                            "change their answer first.",
                            "%(count)d members chose “%(value)s”; keep that option or "
                            "change their answers first.",
                            n,
                        )
                        % {"count": n, "value": value}
                        for value, n in sorted(orphaned.items())
                    ]
                },
                code="in_use",
            )
    definition.label = label
    definition.kind = kind
    definition.options = options
    definition.required = required
    definition.ask_on_join = ask_on_join
    definition.position = position
    definition.full_clean(exclude=["community", "organisation"])
    definition.save()
    return definition


class JSONRemoveKey(Func):
    """`attributes` without one top-level key, in one SQL expression (no row loop)."""

    output_field = JSONField()

    def __init__(self, expression: Any, key: str):
        super().__init__(expression)
        self.key = key

    def as_sql(self, compiler, connection, **extra_context):
        # SQLite, MySQL and MariaDB share JSON_REMOVE with a JSON path.
        sql, params = compiler.compile(self.source_expressions[0])
        path = '$."' + self.key.replace('"', "") + '"'
        return f"json_remove({sql}, %s)", (*params, path)

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} - %s)", (*params, self.key)


@transaction.atomic
def attribute_delete(*, definition: AttributeDefinition) -> int:
    """Delete an attribute and its values from every member (one UPDATE), and drop it from
    segment filters that named it. Returns how many members held a value."""
    key = definition.key
    cleared = Member.objects.filter(
        community_id=definition.community_id, attributes__has_key=key
    ).update(attributes=JSONRemoveKey("attributes", key), updated_at=timezone.now())
    for segment in Segment.objects.filter(community_id=definition.community_id):
        conditions = (segment.filter or {}).get("attributes")
        if isinstance(conditions, dict) and key in conditions:
            del conditions[key]
            segment.save(update_fields=["filter", "updated_at"])
    definition.delete()
    return cleared
