"""The members API's shapes: output serializers for reads, input serializers for writes.

Input serializers check only the shape of a request (types, lengths, known languages),
exactly as the OpenAPI schema states it: what fails here is a 400, and a request the schema
allows passes. What a value means for a community (its attributes, duplicates, suppressed
addresses) is the services' word, answered 422 (`Unprocessable`), so the API and the staff
pages refuse exactly the same things.

The strict fields below are shared with the rewards API: each refuses what its schema
does not allow ("5" where a number belongs, a whitespace-only name, a NUL character) and
describes itself to the schema to the character, so a client, the schema and the server
agree on every input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError

from communities.choices import ConsentPurpose, MemberStatus
from communities.models import AttributeDefinition, Community, Member, Segment
from communities.services.common import email_clean

# A CRM sync sends a handful of attributes; a hundred is already far past any community's
# definitions, and refusing early keeps a hostile body from costing validation work.
ATTRIBUTES_MAX = 100
# AttributeDefinition.key is a SlugField of 40 characters.
ATTRIBUTE_KEY_PATTERN = r"^[-a-zA-Z0-9_]{1,40}$"
ATTRIBUTE_TEXT_MAX = 200
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
# Ids are bigints: a larger number names nothing, and the schema says so.
ID_MAX = 2**63 - 1

# --- strict input fields ---------------------------------------------------------------------

# What Python's str.strip() and the schema's regular expressions both count as space,
# spelled out (Python's \s and JavaScript's \s differ on a few characters), so "blank"
# means the same to the server and to a client that validates against the schema.
SPACE_CHARACTERS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_SPACE_CLASS = (
    r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# Text: no NUL (PostgreSQL cannot store it). Non-blank text also holds one non-space.
NUL_PATTERN = r"\x00"
TEXT_PATTERN = r"^[^\x00]*$"
NON_BLANK_TEXT_PATTERN = rf"^[^\x00]*[^\x00{_SPACE_CLASS}][^\x00]*$"
# RFC 3339, as JSON Schema's "date-time" format means it (Python alone would also take a
# date without a time, or a time without an offset).
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def is_blank(text: str) -> bool:
    return not text.strip(SPACE_CHARACTERS)


class StrictCharField(serializers.CharField):
    """Text that must arrive as text: a number or true where a name belongs is a mistake in
    the caller, not something to store as "123" or "True". Kept as sent (not trimmed), so
    its length is the length the schema counts; the services trim what they store."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if value and not self.allow_blank and is_blank(value):
            self.fail("blank")
        return value


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction; "100" or true is refused rather than guessed at."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(int(data))


class StrictBooleanField(serializers.BooleanField):
    """true or false; "yes", 1 or "true" are refused."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictDateTimeField(serializers.DateTimeField):
    """An RFC 3339 date-time with its offset, e.g. "2026-05-01T09:00:00+07:00"."""

    default_error_messages = {
        "invalid": _('Send a date and time with its offset, e.g. "2026-05-01T09:00:00+07:00".')
    }

    def to_internal_value(self, value: Any):
        if not isinstance(value, str) or not _RFC3339.fullmatch(value):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value.upper())
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        return self.enforce_timezone(parsed)


class StrictTextSchema(OpenApiSerializerFieldExtension):
    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if self.target.allow_blank:
            # Not a `pattern`: drf-spectacular would wrap the field in oneOf [it, ""], and ""
            # fitting both branches is what oneOf refuses.
            schema["not"] = {"pattern": NUL_PATTERN}
        else:
            schema["pattern"] = NON_BLANK_TEXT_PATTERN
            schema.setdefault("minLength", 1)
        return schema


class StrictInput(serializers.Serializer):
    """Refuses fields it does not know: a CRM that sends "emial" or tries to change the
    email address learns so, rather than getting a 200 that did not do what it meant.
    The schema says so too (additionalProperties: false). Checked in to_internal_value, so
    a nested input refuses its unknown fields as the outer one does."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        errors = {key: [_("This field cannot be set here.")] for key in unknown}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if errors and isinstance(exc.detail, dict):
                raise ValidationError({**exc.detail, **errors}) from None
            raise
        if errors:
            raise ValidationError(errors)
        return value


class StrictInputSchema(OpenApiSerializerExtension):
    target_class = StrictInput
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        return schema


class Unprocessable(ValidationError):
    """A request the schema allows that this organisation's data refuses: an attribute the
    community does not define, a community of another organisation, a window that ends
    before it starts. 422, with the same field errors a 400 carries."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def service_refusal(exc: DjangoValidationError, *, nest: str = "", top_level=()) -> Unprocessable:
    """A service's ValidationError as a 422 body. With `nest`, keys other than `top_level`
    go under it (an attribute called "name" is not the name field)."""
    if not hasattr(exc, "error_dict"):
        return Unprocessable({"non_field_errors": exc.messages})
    body: dict[str, Any] = {}
    for key, messages in exc.message_dict.items():
        if key == "__all__":
            body["non_field_errors"] = messages
        elif not nest or key in top_level:
            body[key] = messages
        else:
            body.setdefault(nest, {})[key] = messages
    return Unprocessable(body)


class StrictEmailField(StrictCharField):
    """An email address, normalised (trimmed, lower-cased) as the staff pages store it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return email_clean(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class StrictEmailSchema(OpenApiSerializerFieldExtension):
    target_class = StrictEmailField
    priority = 1  # ahead of StrictTextSchema, which matches it as a StrictCharField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "format": "email"}


@extend_schema_field({"type": "boolean", "enum": [True]})
class AcceptedField(StrictBooleanField):
    """true, and only true: a statement the caller makes, never a setting."""

    default_error_messages = {"not_accepted": _("Send true.")}

    def to_internal_value(self, data: Any) -> bool:
        if super().to_internal_value(data) is not True:
            self.fail("not_accepted")
        return True


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": ATTRIBUTES_MAX,
        "propertyNames": {"pattern": ATTRIBUTE_KEY_PATTERN},
        "additionalProperties": {
            "type": ["string", "number", "null"],
            "maxLength": ATTRIBUTE_TEXT_MAX,
            "pattern": TEXT_PATTERN,
        },
    }
)
class AttributeValuesField(serializers.Field):
    """{key: value} with text, a number or null (which clears it) per attribute. Whether the
    community defines the key and the value fits it is the service's check (422)."""

    default_error_messages = {
        "invalid": _("Send an object of attribute keys and values."),
        "too_many": _("Send at most {max} attributes."),
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("invalid")
        if len(data) > ATTRIBUTES_MAX:
            self.fail("too_many", max=ATTRIBUTES_MAX)
        errors: dict[str, list[str]] = {}
        for key, value in data.items():
            if not re.fullmatch(ATTRIBUTE_KEY_PATTERN, key):
                errors[key] = [_("Not an attribute key (letters, digits, - and _).")]
            elif isinstance(value, bool) or not isinstance(value, str | int | float | None):
                errors[key] = [_("Send text, a number or null.")]
            elif isinstance(value, str) and (len(value) > ATTRIBUTE_TEXT_MAX or "\x00" in value):
                errors[key] = [
                    _("Send at most %(max)d characters, without NUL.") % {"max": ATTRIBUTE_TEXT_MAX}
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class QueryIntegerField(serializers.IntegerField):
    """A whole number in a query string: ASCII digits only ("٣" or "+3" are not numbers to
    a client reading the schema, whatever Python's int() makes of them)."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not (data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.BOOL)
class QueryBooleanField(serializers.Field):
    """true or false in a query string, spelled so; "1", "yes" or "True" are refused."""

    default_error_messages = {"invalid": _('Send "true" or "false".')}

    def to_internal_value(self, data: Any) -> bool:
        if data not in ("true", "false"):
            self.fail("invalid")
        return data == "true"

    def to_representation(self, value: Any) -> bool:
        return bool(value)


# --- outputs ---------------------------------------------------------------------------------


# The JSON the outputs show as stored (labels, options, attribute values, a segment's filter),
# described to the schema by these serializers so a client knows each value's type.


class TranslatedTextSerializer(serializers.Serializer):
    """Text in the site's languages, by language code; a language may be missing."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {code: serializers.CharField(required=False) for code in LANGUAGE_CODES}


class AttributeOptionSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="What a member's attribute holds when chosen.")
    label = TranslatedTextSerializer()


# Stored values: text, a number, an ISO date or a choice's value.
ATTRIBUTE_VALUE_SCHEMA = {"type": ["string", "number"]}


class AttributeConditionSerializer(serializers.Serializer):
    """One attribute's condition: `in` for choices and text, `gte`/`lte` for numbers and
    dates, `contains` for text."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # "in" is a Python keyword, so the fields are named here rather than as attributes.
        return {
            "in": serializers.ListField(child=AttributeValueField(), required=False),
            "gte": AttributeValueField(required=False),
            "lte": AttributeValueField(required=False),
            "contains": serializers.CharField(required=False),
        }


class SegmentFilterSerializer(serializers.Serializer):
    """A saved member filter: every condition present must hold."""

    status = serializers.ListField(
        child=serializers.ChoiceField(choices=MemberStatus.choices), required=False
    )
    attributes = serializers.DictField(child=AttributeConditionSerializer(), required=False)
    active_within_days = serializers.IntegerField(required=False)
    inactive_for_days = serializers.IntegerField(required=False)
    joined_within_days = serializers.IntegerField(required=False)
    search = serializers.CharField(required=False)


@extend_schema_field(ATTRIBUTE_VALUE_SCHEMA)
class AttributeValueField(serializers.JSONField):
    """An attribute's stored value, as stored."""


@extend_schema_field(TranslatedTextSerializer)
class TranslatedTextField(serializers.JSONField):
    """{language: text}, as stored."""


@extend_schema_field(AttributeOptionSerializer(many=True))
class AttributeOptionsField(serializers.JSONField):
    """A choice attribute's options, as stored."""


@extend_schema_field({"type": "object", "additionalProperties": ATTRIBUTE_VALUE_SCHEMA})
class MemberAttributesField(serializers.JSONField):
    """A member's attribute values by key, as stored."""


@extend_schema_field(SegmentFilterSerializer)
class SegmentFilterField(serializers.JSONField):
    """A segment's filter, as stored."""


class AttributeDefinitionOutputSerializer(serializers.ModelSerializer):
    label = TranslatedTextField(read_only=True)
    options = AttributeOptionsField(read_only=True)

    class Meta:
        model = AttributeDefinition
        fields = ["key", "label", "kind", "options", "required"]


class CommunityOutputSerializer(serializers.ModelSerializer):
    member_counts = serializers.SerializerMethodField(
        help_text="Members per status (erased members are not counted)."
    )
    attributes = AttributeDefinitionOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Community
        fields = [
            "id",
            "name",
            "slug",
            "join_mode",
            "policy_version",
            "member_counts",
            "attributes",
        ]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_member_counts(self, community: Community) -> dict[str, int]:
        return self.context["member_counts"].get(community.pk, {})


class ConsentStateSerializer(serializers.Serializer):
    granted = serializers.BooleanField()
    policy_version = serializers.IntegerField()
    recorded_at = serializers.DateTimeField()
    channel = serializers.CharField()


class ConsentsOutputSerializer(serializers.Serializer):
    """The current decision per purpose; null where the member was never asked."""

    community_terms = ConsentStateSerializer(allow_null=True)
    contact_followup = ConsentStateSerializer(allow_null=True)
    marketing = ConsentStateSerializer(allow_null=True)


class MemberOutputSerializer(serializers.ModelSerializer):
    community = serializers.IntegerField(source="community_id", read_only=True)
    attributes = MemberAttributesField(read_only=True)
    consents = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "id",
            "community",
            "email",
            "name",
            "locale",
            "status",
            "attributes",
            "joined_at",
            "last_active_at",
            "confirmed_at",
            "consents",
        ]

    @extend_schema_field(ConsentsOutputSerializer)
    def get_consents(self, member: Member) -> dict[str, Any]:
        # The same rule as selectors.member_consents (the latest record per purpose wins),
        # over the records the view prefetched oldest first, so a page costs one query.
        latest: dict[str, Any] = dict.fromkeys(ConsentPurpose.values)
        for record in member.consents.all():
            latest[record.purpose] = {
                "granted": record.granted,
                "policy_version": record.policy_version,
                "recorded_at": serializers.DateTimeField().to_representation(record.recorded_at),
                "channel": record.channel,
            }
        return latest


class SegmentOutputSerializer(serializers.ModelSerializer):
    filter = SegmentFilterField(read_only=True)
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = Segment
        fields = ["id", "name", "filter", "member_count"]

    @extend_schema_field(
        serializers.IntegerField(
            allow_null=True, help_text="Null when the saved filter no longer fits the community."
        )
    )
    def get_member_count(self, segment: Segment) -> int | None:
        return self.context["member_counts"].get(segment.pk)


class DuplicateMemberSerializer(serializers.Serializer):
    detail = serializers.CharField()
    member_id = serializers.IntegerField(help_text="The member who already has this address.")


# --- inputs ----------------------------------------------------------------------------------


class MemberListQuerySerializer(serializers.Serializer):
    """A community member list's filters, as the staff member list filters."""

    status = serializers.MultipleChoiceField(
        choices=[value for value in MemberStatus.values if value != MemberStatus.ERASED],
        required=False,
        help_text="Member status; repeat for several (any of them).",
    )
    search = StrictCharField(
        max_length=200, required=False, allow_blank=True, help_text="Part of the name or email."
    )
    segment = QueryIntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="A segment of the same community."
    )
    active_within_days = QueryIntegerField(
        min_value=1, max_value=3650, required=False, help_text="Active in the last N days."
    )
    inactive_for_days = QueryIntegerField(
        min_value=1, max_value=3650, required=False, help_text="Not active for N days."
    )
    joined_within_days = QueryIntegerField(
        min_value=1, max_value=3650, required=False, help_text="Joined in the last N days."
    )


class _MemberFieldsInput(StrictInput):
    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    locale = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False, allow_blank=True)
    attributes = AttributeValuesField(
        required=False,
        help_text=(
            "Custom attributes by key, checked against the community's definitions (422 "
            "when it does not define one, or a value does not fit it); null clears one."
        ),
    )


class MemberCreateInputSerializer(_MemberFieldsInput):
    """A member another system adds: they must have accepted the community's terms there."""

    email = StrictEmailField()
    consent = AcceptedField(
        help_text=(
            "true: the person accepted the community terms and privacy policy in your "
            "system; recorded as their consent through the API. Nobody is added without it."
        ),
        error_messages={
            "required": _(
                'Send "consent": true once the person has accepted the community terms '
                "and privacy policy; members are never added without it."
            ),
            "not_accepted": _(
                'Send "consent": true once the person has accepted the community terms '
                "and privacy policy; members are never added without it."
            ),
        },
    )
    marketing = StrictBooleanField(
        required=False, default=False, help_text="They also agreed to marketing email."
    )


class MemberUpdateInputSerializer(_MemberFieldsInput):
    """A partial update: fields left out keep their value, and so do attributes left out."""


class MemberInviteInputSerializer(StrictInput):
    email = StrictEmailField()
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    locale = serializers.ChoiceField(
        choices=LANGUAGE_CODES, required=False, allow_blank=True, default=""
    )
