"""Segments: saved member filters, checked against the community's attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communities.choices import AttributeKind, MemberStatus
from communities.models import AttributeDefinition, Community, Segment
from communities.selectors import member_filter_q
from communities.services.attributes import (
    ATTRIBUTE_TEXT_LIMIT,
    attribute_value_clean,
    community_attributes,
)
from communities.services.common import unique_save

SEGMENT_DAYS_MAX = 3650
SEGMENT_SEARCH_MAX = 200


def _days_clean(value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number of days."))
    if isinstance(value, float) and not value.is_integer():
        raise ValidationError(_("Enter a whole number of days."))
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("Enter a whole number of days.")) from None
    if not 1 <= days <= SEGMENT_DAYS_MAX:
        raise ValidationError(_("Enter between 1 and %(max)d days.") % {"max": SEGMENT_DAYS_MAX})
    return days


def segment_filter_clean(
    *,
    community: Community,
    filter: Any,
    definitions: list[AttributeDefinition] | None = None,
) -> dict[str, Any]:
    """A member filter in its one stored form, checked against the community's attributes.

    Errors are keyed by where they are ("status", "attributes.city", …) so a form can
    put each next to its field. Empty parts are dropped: {} matches every member.
    """
    if not isinstance(filter, Mapping):
        raise ValidationError({"filter": [_("A filter is a set of conditions.")]})
    definitions = (
        definitions if definitions is not None else community_attributes(community=community)
    )
    by_key = {d.key: d for d in definitions}
    errors: dict[str, list[str]] = {}
    result: dict[str, Any] = {}
    known = {
        "status",
        "attributes",
        "active_within_days",
        "inactive_for_days",
        "joined_within_days",
        "search",
    }
    for key in set(filter) - known:
        errors[key] = [_("Not a condition members can be filtered by.")]

    statuses = filter.get("status") or []
    if isinstance(statuses, str):
        statuses = [statuses]
    if not isinstance(statuses, list | tuple):
        errors["status"] = [_("Choose statuses from the list.")]
    else:
        allowed = set(MemberStatus.values) - {MemberStatus.ERASED}
        bad = [str(s) for s in statuses if s not in allowed]
        if bad:
            errors["status"] = [_("Not a member status: %(values)s.") % {"values": ", ".join(bad)}]
        elif statuses:
            result["status"] = sorted(set(statuses), key=list(MemberStatus.values).index)

    attributes = filter.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        errors["attributes"] = [_("Attribute conditions must name attributes.")]
        attributes = {}
    cleaned_attributes: dict[str, dict[str, Any]] = {}
    for key, condition in attributes.items():
        where = f"attributes.{key}"
        definition = by_key.get(key)
        if definition is None:
            errors[where] = [_("This community has no attribute “%(key)s”.") % {"key": key}]
            continue
        if not isinstance(condition, Mapping):
            errors[where] = [_("Give a condition for this attribute.")]
            continue
        if definition.kind in (AttributeKind.NUMBER, AttributeKind.DATE):
            operators = {"gte", "lte"}
        elif definition.kind == AttributeKind.CHOICE:
            operators = {"in"}
        else:
            operators = {"in", "contains"}
        cleaned_condition: dict[str, Any] = {}
        for operator, value in condition.items():
            if operator not in operators:
                errors[where] = [_("“%(op)s” does not apply to this attribute.") % {"op": operator}]
                break
            try:
                if operator == "in":
                    values = value if isinstance(value, list | tuple) else [value]
                    options = [
                        attribute_value_clean(definition=definition, value=v) for v in values
                    ]
                    options = [v for v in options if v is not None]
                    if options:
                        cleaned_condition["in"] = list(dict.fromkeys(options))
                elif operator == "contains":
                    text = str(value or "").strip()
                    if len(text) > ATTRIBUTE_TEXT_LIMIT:
                        raise ValidationError(_("Keep this under 200 characters."))
                    if text:
                        cleaned_condition["contains"] = text
                else:
                    bound = attribute_value_clean(definition=definition, value=value)
                    if bound is not None:
                        cleaned_condition[operator] = bound
            except ValidationError as exc:
                errors[where] = exc.messages
                break
        low, high = cleaned_condition.get("gte"), cleaned_condition.get("lte")
        if low is not None and high is not None and low > high:
            errors[where] = [_("The lower bound is above the upper bound.")]
        if cleaned_condition and where not in errors:
            cleaned_attributes[key] = cleaned_condition
    if cleaned_attributes:
        result["attributes"] = cleaned_attributes

    for key in ("active_within_days", "inactive_for_days", "joined_within_days"):
        value = filter.get(key)
        if value in (None, ""):
            continue
        try:
            result[key] = _days_clean(value)
        except ValidationError as exc:
            errors[key] = exc.messages
    if (
        "active_within_days" in result
        and "inactive_for_days" in result
        and result["inactive_for_days"] >= result["active_within_days"]
    ):
        errors["inactive_for_days"] = [
            _("No one can be active in the last %(a)d days and inactive for %(i)d.")
            % {"a": result["active_within_days"], "i": result["inactive_for_days"]}
        ]

    search = filter.get("search")
    if search not in (None, ""):
        if not isinstance(search, str) or len(search.strip()) > SEGMENT_SEARCH_MAX:
            errors["search"] = [_("Search for at most 200 characters.")]
        elif search.strip():
            result["search"] = search.strip()
    if errors:
        raise ValidationError(errors)
    # The selector must accept whatever this returns.
    member_filter_q(result)
    return result


def _segment_name_clean(*, community: Community, name: str, exclude_pk: int | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Name the segment.")]})
    if len(name) > 200:
        raise ValidationError({"name": [_("Keep the name under 200 characters.")]})
    clash = Segment.objects.filter(community=community, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(
            {"name": [_("This community already has a segment with that name.")]},
            code="duplicate",
        )
    return name


def _segment_clean(
    *, community: Community, name: str, filter: Mapping[str, Any], pk: int | None
) -> tuple[str, dict[str, Any]]:
    """The name and filter, or one ValidationError with every problem of both."""
    errors: dict[str, list[str]] = {}
    cleaned_name, cleaned_filter = "", {}
    try:
        cleaned_name = _segment_name_clean(community=community, name=name, exclude_pk=pk)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        cleaned_filter = segment_filter_clean(community=community, filter=filter)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned_name, cleaned_filter


def _segment_save(segment: Segment) -> Segment:
    return unique_save(
        segment, field="name", message=_("This community already has a segment with that name.")
    )


@transaction.atomic
def segment_create(*, community: Community, name: str, filter: Mapping[str, Any]) -> Segment:
    """Save a named member filter for the community; names are unique per community."""
    name, cleaned = _segment_clean(community=community, name=name, filter=filter, pk=None)
    return _segment_save(
        Segment(
            organisation_id=community.organisation_id,
            community=community,
            name=name,
            filter=cleaned,
        )
    )


@transaction.atomic
def segment_update(*, segment: Segment, name: str, filter: Mapping[str, Any]) -> Segment:
    """Rename a segment or change its filter (validated as on create)."""
    segment.name, segment.filter = _segment_clean(
        community=segment.community, name=name, filter=filter, pk=segment.pk
    )
    return _segment_save(segment)


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Delete a saved segment; its members are untouched."""
    segment.delete()
