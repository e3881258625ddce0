"""The rewards API's shapes: output serializers for reads, input serializers for writes.

Input serializers check the shape of a request (types, lengths, known languages) exactly
as the schema states it, a 400 when it does not fit; what this organisation's data refuses
(another organisation's community, a window that ends before it starts) is a 422, and
whether a redemption may move on is the services' word, so the API and the staff pages
refuse exactly the same things.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from communities.api.serializers import (
    ID_MAX,
    QueryBooleanField,
    QueryIntegerField,
    StrictBooleanField,
    StrictCharField,
    StrictDateTimeField,
    StrictInput,
    StrictIntegerField,
    Unprocessable,
)
from communities.models import Community
from rewards.choices import LedgerReason, RedemptionStatus, RewardKind
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

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image_url(self, reward: Reward) -> str | None:
        if not reward.image:
            return None
        request = self.context.get("request")
        url = reward.image.url
        return request.build_absolute_uri(url) if request is not None else url

    @extend_schema_field(serializers.IntegerField(allow_null=True))
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

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_shipping_address(self, redemption: Redemption) -> str | None:
        return redemption.shipping_address if self.context.get("show_address") else None

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_decided_by(self, redemption: Redemption) -> str | None:
        return redemption.decided_by.email if redemption.decided_by else None


class LedgerDetailSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, help_text="The survey's or reward's name.")
    note = serializers.CharField(required=False, help_text="Staff's reason for an adjustment.")
    reward = serializers.IntegerField(required=False, help_text="The reward redeemed.")
    months = serializers.IntegerField(
        required=False, help_text="Expiry: the months without activity that expire points."
    )
    last_active = serializers.DateField(
        required=False, help_text="Expiry: the member's last active day."
    )


class LedgerEntryOutputSerializer(serializers.ModelSerializer):
    reason = serializers.ChoiceField(
        choices=LedgerReason.choices,
        read_only=True,
        help_text="Why the points moved, as a code: translate it for display.",
    )
    detail = serializers.SerializerMethodField(
        help_text=("What the line is about; every key is optional and the set may grow.")
    )
    created_by = serializers.SerializerMethodField(
        help_text="The staff member who adjusted the points; null for everything automatic."
    )

    class Meta:
        model = LedgerEntry
        fields = ["id", "points", "reason", "detail", "created_at", "created_by"]

    @extend_schema_field(LedgerDetailSerializer)
    def get_detail(self, entry: LedgerEntry) -> dict[str, Any]:
        return entry.detail or {}

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_created_by(self, entry: LedgerEntry) -> str | None:
        return entry.created_by.email if entry.created_by else None


class MemberPointsOutputSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="The member's points now (never below zero).")
    next = serializers.URLField(allow_null=True, help_text="The next, older page of entries.")
    previous = serializers.URLField(allow_null=True)
    entries = LedgerEntryOutputSerializer(many=True, help_text="Newest first.")


# --- inputs --------------------------------------------------------------------------------


class RewardListQuerySerializer(serializers.Serializer):
    community = QueryIntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        help_text="This community's own rewards (not the organisation-wide ones).",
    )
    active = QueryBooleanField(required=False, help_text="Only active (or inactive) rewards.")


class RedemptionListQuerySerializer(serializers.Serializer):
    status = serializers.MultipleChoiceField(
        choices=RedemptionStatus.choices, required=False, help_text="Any of these; repeat it."
    )
    reward = QueryIntegerField(min_value=1, max_value=ID_MAX, required=False)
    member = QueryIntegerField(min_value=1, max_value=ID_MAX, required=False)
    community = QueryIntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="Redemptions by its members."
    )


class TranslationInputSerializer(StrictInput):
    """A reward's name and description in one other language; either may be left out."""

    name = StrictCharField(max_length=NAME_MAX, required=False, allow_blank=True)
    description = StrictCharField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True)


class TranslationsInputSerializer(StrictInput):
    """{language: {"name", "description"}}; the organisation's own language is the reward's
    name and description themselves, so it is refused here (422)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {code: TranslationInputSerializer(required=False) for code in LANGUAGE_CODES}


class _RewardFieldsInput(StrictInput):
    """What a reward's create and update share. The view passes the organisation and, on
    update, the reward itself (its window and kind bound the new values)."""

    kind = serializers.ChoiceField(
        choices=RewardKind.choices,
        required=False,
        default=RewardKind.PERK,
        help_text="How it is delivered; fixed once it has voucher codes or redemptions.",
    )
    community = StrictIntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="A community of this organisation; null offers it in every community.",
    )
    name = StrictCharField(max_length=NAME_MAX)
    description = StrictCharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )
    translations = TranslationsInputSerializer(
        required=False,
        default=dict,
        help_text=(
            'Other languages: {"th": {"name": "…", "description": "…"}}. The organisation\'s '
            "own language is the name and description above."
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
    available_from = StrictDateTimeField(required=False, allow_null=True, default=None)
    available_until = StrictDateTimeField(
        required=False, allow_null=True, default=None, help_text="After available_from."
    )
    auto_approve = StrictBooleanField(required=False, default=False)
    active = StrictBooleanField(required=False, default=True)


def reward_fields_resolve(
    *, organisation, reward: Reward | None, fields: dict[str, Any]
) -> dict[str, Any]:
    """The validated fields with the community as an object, checked against this
    organisation's data and the reward as it stands (Unprocessable, 422, if they do not fit:
    another organisation's community, a window that ends before it starts, a voucher with a
    stock). The service checks the same again; this names the field for the caller."""
    fields = dict(fields)
    errors: dict[str, list[str]] = {}
    if fields.get("community") is not None:
        community = (
            Community.objects.for_organisation(organisation).filter(pk=fields["community"]).first()
        )
        if community is None:
            errors["community"] = [_("No such community in this organisation.")]
        fields["community"] = community
    kind = fields.get("kind", reward.kind if reward else RewardKind.PERK)
    starts = fields["available_from"] if "available_from" in fields else _get(reward, "from")
    ends = fields["available_until"] if "available_until" in fields else _get(reward, "until")
    if starts and ends and ends <= starts:
        errors["available_until"] = [_("End the window after it starts.")]
    if kind == RewardKind.VOUCHER and fields.get("stock") is not None:
        errors["stock"] = [_("A voucher reward's stock is its codes: upload codes instead.")]
    if errors:
        raise Unprocessable(errors)
    return fields


def _get(reward: Reward | None, end: str):
    return getattr(reward, f"available_{end}") if reward else None


class RewardCreateInputSerializer(_RewardFieldsInput):
    """A new reward; fields left out take the defaults shown."""


class RewardUpdateInputSerializer(_RewardFieldsInput):
    """A partial update (the view validates with partial=True): fields left out keep their
    value. The kind changes only while the reward has no codes and no redemptions."""


class RedemptionApproveInputSerializer(StrictInput):
    """No fields: the caller is recorded as the one who approved."""


class RedemptionRejectInputSerializer(StrictInput):
    reason = StrictCharField(
        max_length=NOTE_MAX, help_text="Why: the member reads it in their email and portal."
    )


class RedemptionFulfilInputSerializer(StrictInput):
    tracking_note = StrictCharField(
        max_length=NOTE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="How it was sent, e.g. a parcel's tracking number.",
    )
