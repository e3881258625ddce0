from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Member, Organisation, TimeStampedModel
from rewards.choices import LedgerReason, RedemptionStatus


class LedgerEntry(models.Model):
    """Append-only points ledger; a balance is the sum of a member's entries."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="ledger_entries"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="ledger_entries")
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=24, choices=LedgerReason.choices)
    # What earned or spent the points, as "app.model:id"; rewards never imports its sources.
    source = models.CharField(_("source"), max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=~models.Q(points=0), name="ledger_points_nonzero"),
        ]
        indexes = [models.Index(fields=["member", "created_at"])]

    def __str__(self) -> str:
        return f"{self.member} {self.points:+d} ({self.reason})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only.")


class Reward(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="rewards")
    community = models.ForeignKey(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rewards",
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    cost = models.PositiveIntegerField(_("cost in points"))
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = TenantManager()

    class Meta:
        ordering = ["cost", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(cost__gt=0), name="reward_cost_positive"),
        ]

    def __str__(self) -> str:
        return self.name


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
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RedemptionStatus.values),
                name="redemption_status_valid",
            ),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="redemption_points_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.reward} ({self.status})"
