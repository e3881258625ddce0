"""The daily snapshot of each community's member counts by lifecycle status."""

from __future__ import annotations

from django.db import models

from communities.managers import TenantManager
from communities.models.communities import Community
from communities.models.organisations import Organisation


class LifecycleSnapshot(models.Model):
    """Each day's member counts per lifecycle status, for the community overview's trend."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="lifecycle_snapshots"
    )
    day = models.DateField()
    counts = models.JSONField(default=dict)

    objects = TenantManager()

    class Meta:
        ordering = ["community", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["community", "day"], name="lifecycle_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.day}"
