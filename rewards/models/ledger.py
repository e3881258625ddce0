from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Member, Organisation
from rewards.choices import LedgerReason


class LedgerEntry(models.Model):
    """Append-only points ledger; a balance is the sum of a member's entries."""

    # No index of their own: indexes below lead with each (one B-tree less per award).
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="ledger_entries", db_index=False
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="ledger_entries", db_index=False
    )
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=24, choices=LedgerReason.choices)
    # What earned or spent the points, as "app.model:id"; rewards never imports its sources.
    source = models.CharField(_("source"), max_length=100, blank=True)
    # What the member's history shows beside the reason, as data translated when shown:
    # {"title": survey or reward name, "note": staff's reason for an adjustment}. Never
    # anything that names an anonymous response.
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # Unique by a constraint (Meta), not unique=True: on PostgreSQL that would add a
    # LIKE index no query uses, one more B-tree per award.
    idempotency_key = models.CharField(max_length=200)
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
            models.UniqueConstraint(fields=["idempotency_key"], name="ledger_idempotency_key"),
        ]
        indexes = [
            models.Index(fields=["member", "created_at"]),
            # A balance is read from the index alone, however long the member's history.
            models.Index(fields=["member", "points"], name="ledger_member_points"),
            models.Index(fields=["organisation", "reason", "created_at"], name="ledger_org_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.points:+d} ({self.reason})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only.")
