"""The rewards API's shapes: output serializers for reads, input serializers for writes.

Input serializers check the shape of a request (types, lengths, known languages, the
reward's window); whether a redemption may move on is the services' word, so the API and
the staff pages refuse exactly the same things.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from communities.models import Community
from rewards.choices import LedgerReason, RewardKind
from rewards.models import LedgerEntry, Redemption, Reward
from rewards.services.catalogue import (
    COST_MAX,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PER_MEMBER_LIMIT_MAX,
    STOCK_MAX,
)

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
# The staff pages' limits: the API refuses exactly what they refuse.
NAME_MAX = NAME_MAX_LENGTH
DESCRIPTION_MAX = DESCRIPTION_MAX_LENGTH
NOTE_MAX = 1000
TRANSLATION_KEYS = ("name", "description")


# --- outputs -------------------------------------------------------------------------------


class RewardOutputSerializer(serializers.ModelSerializer):
    community = serializers.IntegerField(
        source="community_id",
        read_only=True,
        allow_null=True,
        help_text="The community offering it; null when every community of the organisation does.",
    )
    translations = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField(
        help_text="The uploaded image (staff pages upload it); null when there is none."
    )
    codes_left = serializers.SerializerMethodField(
        help_text="Voucher codes not yet handed out; null for other kinds."
    )

    class Meta:
        model = Reward
        fields = [
            "id",
            "community",
            "kind",
            "name",
            "description",
            "translations",
            "cost",
            "stock",
            "per_member_limit",
            "available_from",
            "available_until",
            "auto_approve",
            "active",
            "image_url",
            "codes_left",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "description": 'Other languages: {"th": {"name": "…", "description": "…"}}.',
            "additionalProperties": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
            },
        }
    )
    def get_translations(self, reward: Reward) -> dict[str, Any]:
        return reward.translations or {}

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, reward: Reward) -> str | None:
        if not reward.image:
            return None
        request = self.context.get("request")
        url = reward.image.url
        return request.build_absolute_uri(url) if request is not None else url

    @extend_schema_field(OpenApiTypes.INT)
    def get_codes_left(self, reward: Reward) -> int | None:
        if reward.kind != RewardKind.VOUCHER:
            return None
        # The selector annotates the count, so a page of vouchers costs no query per row.
        return getattr(reward, "codes_left", None)


class RedemptionOutputSerializer(serializers.ModelSerializer):
    """A redemption without its voucher code: only the member's portal ever shows that."""

    reward = serializers.IntegerField(source="reward_id", read_only=True)
    reward_name = serializers.CharField(source="reward.name", read_only=True)
    reward_kind = serializers.ChoiceField(
        source="reward.kind", choices=RewardKind.choices, read_only=True
    )
    member = serializers.IntegerField(source="member_id", read_only=True)
    community = serializers.IntegerField(source="member.community_id", read_only=True)
    points = serializers.IntegerField(read_only=True, help_text="Points held for it.")
    shipping_address = serializers.SerializerMethodField(
        help_text=(
            "Where to ship a physical item. Shown to owners, admins and API keys only; "
            "null for everyone else."
        )
    )
    decided_by = serializers.SerializerMethodField(
        help_text="The staff member who approved or rejected it; null for an API key or auto."
    )

    class Meta:
        model = Redemption
        fields = [
            "id",
            "reward",
            "reward_name",
            "reward_kind",
            "member",
            "community",
            "status",
            "points",
            "shipping_address",
            "decision_note",
            "tracking_note",
            "decided_by",
            "decided_at",
            "fulfilled_at",
            "created_at",
        ]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_shipping_address(self, redemption: Redemption) -> str | None:
        return redemption.shipping_address if self.context.get("show_address") else None

    @extend_schema_field({"type": "string", "format": "email", "nullable": True})
    def get_decided_by(self, redemption: Redemption) -> str | None:
        return redemption.decided_by.email if redemption.decided_by else None


class LedgerEntryOutputSerializer(serializers.ModelSerializer):
    reason = serializers.ChoiceField(
        choices=LedgerReason.choices,
        read_only=True,
        help_text="Why the points moved, as a code: translate it for display.",
    )
    detail = serializers.SerializerMethodField(
        help_text=(
            'What the line is about: {"title": survey or reward name, "note": staff\'s reason '
            'for an adjustment, "reward": reward id}; any key may be absent.'
        )
    )
    created_by = serializers.SerializerMethodField(
        help_text="The staff member who adjusted the points; null for everything automatic."
    )

    class Meta:
        model = LedgerEntry
        fields = ["id", "points", "reason", "detail", "created_at", "created_by"]

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_detail(self, entry: LedgerEntry) -> dict[str, Any]:
        return entry.detail or {}

    @extend_schema_field({"type": "string", "format": "email", "nullable": True})
    def get_created_by(self, entry: LedgerEntry) -> str | None:
        return entry.created_by.email if entry.created_by else None


class MemberPointsOutputSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="The member's points now (never below zero).")
    next = serializers.URLField(allow_null=True, help_text="The next, older page of entries.")
    previous = serializers.URLField(allow_null=True)
    entries = LedgerEntryOutputSerializer(many=True, help_text="Newest first.")


class ErrorOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()


class RedemptionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Its status now, e.g. already approved.")
    code = serializers.CharField(help_text='"already_decided".')


# --- inputs --------------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """Text that must arrive as text: a number or true where a name belongs is a mistake in
    the caller, not something to store as "123" or "True"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction; "100" or true is refused rather than guessed at."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class _StrictInput(serializers.Serializer):
    """Refuses fields it does not know: an integration that sends "costs" or tries to set
    the image learns so, rather than getting a 200 that did not do what it meant."""

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {key: [_("This field cannot be set here.")] for key in unknown}
            )
        return data


class _RewardFieldsInput(_StrictInput):
    """What a reward's create and update share. The view passes the organisation and, on
    update, the reward itself (its window and kind bound the new values)."""

    kind = serializers.ChoiceField(
        choices=RewardKind.choices,
        required=False,
        default=RewardKind.PERK,
        help_text="How it is delivered; fixed once it has voucher codes or redemptions.",
    )
    community = StrictIntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A community of this organisation; null offers it in every community.",
    )
    name = StrictCharField(max_length=NAME_MAX)
    description = StrictCharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )
    translations = serializers.JSONField(
        required=False,
        default=dict,
        help_text=(
            'Other languages: {"th": {"name": "…", "description": "…"}}; languages: '
            + ", ".join(LANGUAGE_CODES)
            + "."
        ),
    )
    cost = StrictIntegerField(min_value=1, max_value=COST_MAX, help_text="Points, at least 1.")
    stock = StrictIntegerField(
        min_value=0,
        max_value=STOCK_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="Items left; null for unlimited. Voucher rewards count their codes instead.",
    )
    per_member_limit = StrictIntegerField(
        min_value=1,
        max_value=PER_MEMBER_LIMIT_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="How many times one member may redeem it; null for no limit.",
    )
    available_from = serializers.DateTimeField(required=False, allow_null=True, default=None)
    available_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    auto_approve = StrictBooleanField(required=False, default=False)
    active = StrictBooleanField(required=False, default=True)

    def validate_community(self, value: int | None) -> Community | None:
        if value is None:
            return None
        community = (
            Community.objects.for_organisation(self.context["organisation"])
            .filter(pk=value)
            .first()
        )
        if community is None:
            raise serializers.ValidationError(_("No such community in this organisation."))
        return community

    def validate_translations(self, value: Any) -> dict[str, dict[str, str]]:
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Send an object keyed by language code."))
        errors: dict[str, Any] = {}
        clean: dict[str, dict[str, str]] = {}
        for language, texts in value.items():
            if language not in LANGUAGE_CODES:
                errors[language] = [_("Not a language this site offers.")]
                continue
            if not isinstance(texts, dict):
                errors[language] = [_('Send {"name": …, "description": …}.')]
                continue
            problems = _translation_problems(texts)
            if problems:
                errors[language] = problems
                continue
            kept = {key: texts[key].strip() for key in TRANSLATION_KEYS if texts.get(key)}
            if kept:
                clean[language] = kept
        if errors:
            raise serializers.ValidationError(errors)
        return clean

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        data = super().validate(data)
        reward: Reward | None = self.context.get("reward")
        kind = data.get("kind", reward.kind if reward else RewardKind.PERK)
        starts = data["available_from"] if "available_from" in data else _get(reward, "from")
        ends = data["available_until"] if "available_until" in data else _get(reward, "until")
        if starts and ends and ends <= starts:
            raise serializers.ValidationError(
                {"available_until": [_("End the window after it starts.")]}
            )
        if kind == RewardKind.VOUCHER and data.get("stock") is not None:
            raise serializers.ValidationError(
                {"stock": [_("A voucher reward's stock is its codes: upload codes instead.")]}
            )
        return data


def _get(reward: Reward | None, end: str):
    return getattr(reward, f"available_{end}") if reward else None


def _translation_problems(texts: dict[str, Any]) -> list[str]:
    problems = [
        str(_("%(key)s is not a translated field.") % {"key": key})
        for key in sorted(set(texts) - set(TRANSLATION_KEYS))
    ]
    limits = {"name": NAME_MAX, "description": DESCRIPTION_MAX}
    for key, limit in limits.items():
        text = texts.get(key, "")
        if not isinstance(text, str):
            problems.append(str(_("%(key)s must be text.") % {"key": key}))
        elif len(text) > limit:
            problems.append(
                str(_("Keep %(key)s to %(limit)d characters.") % {"key": key, "limit": limit})
            )
    return problems


class RewardCreateInputSerializer(_RewardFieldsInput):
    """A new reward; fields left out take the defaults shown."""


class RewardUpdateInputSerializer(_RewardFieldsInput):
    """A partial update (the view validates with partial=True): fields left out keep their
    value. The kind changes only while the reward has no codes and no redemptions."""


class RedemptionApproveInputSerializer(_StrictInput):
    """No fields: the caller is recorded as the one who approved."""


class RedemptionRejectInputSerializer(_StrictInput):
    reason = StrictCharField(
        max_length=NOTE_MAX, help_text="Why: the member reads it in their email and portal."
    )


class RedemptionFulfilInputSerializer(_StrictInput):
    tracking_note = StrictCharField(
        max_length=NOTE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="How it was sent, e.g. a parcel's tracking number.",
    )
