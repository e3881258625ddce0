"""The members API's shapes: output serializers for reads, input serializers for writes.

Input serializers check only the shape of a request (types, lengths, known languages);
what a value means for a community (its attributes, duplicates, suppressed addresses)
is the services' word, so the API and the staff pages refuse exactly the same things.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from communities.choices import ConsentPurpose
from communities.models import AttributeDefinition, Community, Member, Segment
from communities.services.attributes import attributes_clean
from communities.services.common import email_clean

# A CRM sync sends a handful of attributes; a hundred is already far past any community's
# definitions, and refusing early keeps a hostile body from costing validation work.
ATTRIBUTES_MAX = 100
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class AttributeDefinitionOutputSerializer(serializers.ModelSerializer):
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
    filter = serializers.JSONField(read_only=True)
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = Segment
        fields = ["id", "name", "filter", "member_count"]

    @extend_schema_field(OpenApiTypes.INT)
    def get_member_count(self, segment: Segment) -> int | None:
        return self.context["member_counts"].get(segment.pk)


def _attributes_shape(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > ATTRIBUTES_MAX:
        raise serializers.ValidationError(
            _("Send at most %(max)d attributes.") % {"max": ATTRIBUTES_MAX}
        )
    return value


def attribute_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    """attributes_clean's errors (keyed by attribute) nested under "attributes", so an
    attribute called "name" cannot be mistaken for the name field."""
    return serializers.ValidationError({"attributes": exc.message_dict})


class _StrictInput(serializers.Serializer):
    """Refuses fields it does not know: a CRM that sends "emial" or tries to change the
    email address learns so, rather than getting a 200 that did not do what it meant."""

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {key: [_("This field cannot be set here.")] for key in unknown}
            )
        return data


class _MemberFieldsInput(_StrictInput):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    locale = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False, allow_blank=True)
    attributes = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        required=False,
        help_text=(
            "Custom attributes by key, checked against the community's definitions; "
            "null clears one."
        ),
    )

    def validate_attributes(self, value: Any) -> dict[str, Any]:
        return _attributes_shape(value)


class MemberCreateInputSerializer(_MemberFieldsInput):
    """A member another system adds: they must have accepted the community's terms there."""

    email = serializers.CharField(max_length=254)
    consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "True when the person accepted the community terms and privacy policy in your "
            "system; recorded as their consent through the API. Without it nobody is added."
        ),
    )
    marketing = serializers.BooleanField(
        required=False, default=False, help_text="They also agreed to marketing email."
    )

    def validate_email(self, value: str) -> str:
        try:
            return email_clean(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                _(
                    'Send "consent": true once the person has accepted the community terms '
                    "and privacy policy; members are never added without it."
                )
            )
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        data = super().validate(data)
        try:
            data["attributes"] = attributes_clean(
                community=self.context["community"],
                values=data.get("attributes") or {},
                definitions=self.context["definitions"],
            )
        except DjangoValidationError as exc:
            raise attribute_errors(exc) from None
        return data


class MemberUpdateInputSerializer(_MemberFieldsInput):
    """A partial update: fields left out keep their value, and so do attributes left out."""


class MemberInviteInputSerializer(_StrictInput):
    email = serializers.CharField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    locale = serializers.ChoiceField(
        choices=LANGUAGE_CODES, required=False, allow_blank=True, default=""
    )

    def validate_email(self, value: str) -> str:
        try:
            return email_clean(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class DuplicateMemberSerializer(serializers.Serializer):
    detail = serializers.CharField()
    member_id = serializers.IntegerField(help_text="The member who already has this address.")
