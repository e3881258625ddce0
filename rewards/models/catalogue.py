"""The reward catalogue, its voucher codes, and members' redemptions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Community, Member, Organisation, TimeStampedModel
from rewards.choices import RedemptionStatus, RewardKind


def reward_image_path(instance: "Reward", filename: str) -> str:
    # The name is the site's own (never the uploader's), so it cannot collide or traverse.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    stem = f"{instance.pk or 'new'}-{instance.image_key}"
    return f"rewards/{instance.organisation_id}/{stem}.{extension}"


class Reward(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="rewards")
    community = models.ForeignKey(
        Community,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rewards",
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=RewardKind.choices, default=RewardKind.PERK
    )
    # Name and description in the organisation's default language; `translations` holds
    # the other languages as {"th": {"name": …, "description": …}, …}.
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    image = models.ImageField(_("image"), upload_to=reward_image_path, blank=True)
    # A fresh random part per upload, so a replaced image gets a new URL (caches).
    image_key = models.CharField(max_length=16, blank=True, editable=False)
    cost = models.PositiveIntegerField(_("cost in points"))
    # Items left; empty means unlimited. A voucher reward's stock is its unassigned codes.
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    per_member_limit = models.PositiveSmallIntegerField(
        _("most one member may redeem"), null=True, blank=True
    )
    available_from = models.DateTimeField(_("available from"), null=True, blank=True)
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)
    auto_approve = models.BooleanField(_("approve requests automatically"), default=False)
    active = models.BooleanField(_("active"), default=True)

    objects = TenantManager()

    class Meta:
        ordering = ["cost", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(cost__gt=0), name="reward_cost_positive"),
            models.CheckConstraint(
                condition=models.Q(kind__in=RewardKind.values), name="reward_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(available_from__isnull=True)
                | models.Q(available_until__isnull=True)
                | models.Q(available_until__gt=models.F("available_from")),
                name="reward_window_ordered",
            ),
        ]
        indexes = [models.Index(fields=["community", "active", "cost"])]

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str) -> str:
        return (self.translations.get(language) or {}).get("name") or self.name

    def description_in(self, language: str) -> str:
        return (self.translations.get(language) or {}).get("description") or self.description


class Redemption(TimeStampedModel):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="redemptions"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    points = models.PositiveIntegerField(_("points held"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RedemptionStatus.choices,
        default=RedemptionStatus.REQUESTED,
    )
    # The member's form submission, so a double click redeems once.
    request_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # For a physical item: where to ship it. Erased with the member.
    shipping_address = models.TextField(_("shipping address"), blank=True)
    # Staff's words: why it was rejected or cancelled, how it was sent.
    decision_note = models.TextField(_("reason"), blank=True)
    tracking_note = models.TextField(_("tracking note"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RedemptionStatus.values),
                name="redemption_status_valid",
            ),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="redemption_points_gt_0"),
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "created_at"]),
            models.Index(fields=["member", "reward", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.reward} ({self.status})"


class VoucherCode(models.Model):
    """One code of a voucher reward's pool; handed out once, shown only to its member."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(_("code"), max_length=100)
    redemption = models.OneToOneField(
        Redemption, null=True, blank=True, on_delete=models.PROTECT, related_name="voucher"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    upload = models.ForeignKey(
        "rewards.VoucherUpload", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["reward", "code"], name="voucher_code_unique"),
        ]
        indexes = [
            # The next free code: the first unassigned one of the reward.
            models.Index(
                fields=["reward", "id"],
                condition=models.Q(redemption__isnull=True),
                name="voucher_free",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reward} code #{self.pk}"


class VoucherUpload(models.Model):
    """A CSV of codes staff uploaded, with its per-row report."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="uploads")
    filename = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    # [{"row": 3, "outcome": "duplicate", "code": "…"}], outcomes as data translated when shown.
    report = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.filename
