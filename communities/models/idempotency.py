"""The first answer to an API write sent with an Idempotency-Key, kept for its retries."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from communities.managers import TenantManager
from communities.models.organisations import Organisation

IDEMPOTENCY_KEY_MAX_LENGTH = 255


class IdempotencyRecord(models.Model):
    """One caller's key in one organisation: the request it was first sent with and, once
    that finished, the answer a retry gets instead of doing the write again.

    `status` is empty while the first request runs. Records expire after
    API_IDEMPOTENCY_TTL_HOURS (communities.api.idempotency).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    # Who sent it, "token:<id>" or "user:<id>": two callers never share a key.
    credential = models.CharField(max_length=40)
    key = models.CharField(max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=1000)
    # SHA-256 of the request body, hex.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    # The answer's headers a retry needs too (Location), {name: value}.
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "credential", "key"], name="idempotencyrecord_one_per_key"
            ),
            models.CheckConstraint(
                condition=models.Q(status__isnull=True)
                | models.Q(status__gte=100, status__lte=599),
                name="idempotencyrecord_status_http",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credential} · {self.key} · {self.status or 'running'}"
