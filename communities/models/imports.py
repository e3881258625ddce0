"""CSV imports of members: checked row by row into a report, then committed all or nothing."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.choices import (
    ImportStatus,
)
from communities.managers import TenantManager
from communities.models.base import TimeStampedModel
from communities.models.communities import Community
from communities.models.organisations import Organisation, User


class MemberImport(TimeStampedModel):
    """A CSV of members: checked row by row into a report, then committed all or nothing."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(_("file"), max_length=255, blank=True)
    # The uploaded text is kept until the import ends so a worker can read it.
    content = models.TextField(blank=True)
    # The importer confirms these people agreed to join; recorded as consent per member.
    consent_confirmed = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    # [{"row": 3, "column": "email", "value": "x", "message": "…"}], at most a few thousand.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # Why an import ended without importing (shown to staff), or a note on rows skipped.
    message = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ImportStatus.values), name="memberimport_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename or 'import'} → {self.community}"
