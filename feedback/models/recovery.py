"""The recovery check: after a case is resolved, one question to the customer ("Did we
fix it?", 1 to 5) through a signed link, answered once; a low answer reopens the case."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Organisation


class RecoveryCheck(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(
        "feedback.Case", on_delete=models.CASCADE, related_name="recovery_checks"
    )
    language = models.CharField(_("language"), max_length=8, default="en")
    sent_at = models.DateTimeField(default=timezone.now)
    score = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True, answered_at__isnull=True)
                | models.Q(score__gte=1, score__lte=5, answered_at__isnull=False),
                name="recovery_answer_is_1_to_5_once",
            ),
        ]

    def __str__(self) -> str:
        return f"recovery check on case #{self.case_id}: {self.score or '—'}"
