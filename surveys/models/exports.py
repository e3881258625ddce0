"""Response exports prepared by a worker: an XLSX (or a very large CSV) file, its progress
while it is written, and how long its download link works (surveys.exports)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Organisation, TimeStampedModel
from surveys.models.surveys import Survey


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel workbook (.xlsx)")
    CSV = "csv", _("CSV file")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Being written")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class ExportJob(TimeStampedModel):
    """One export a staff member asked for; the file lives under MEDIA_ROOT/exports/."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The export's options as query parameters (surveys.exports.params), so the job writes
    # exactly the rows the same options give the streamed CSV.
    params = models.JSONField(default=dict, blank=True)
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    # Relative to MEDIA_ROOT; empty until the file is complete, and again once it expired.
    file_path = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(format__in=ExportFormat.values), name="exportjob_format_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ExportStatus.values), name="exportjob_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(rows_done__lte=models.F("rows_total")),
                name="exportjob_progress_within_total",
            ),
            # A finished file always says when its link stops working.
            models.CheckConstraint(
                condition=~models.Q(status="done")
                | models.Q(expires_at__isnull=False, finished_at__isnull=False)
                & ~models.Q(file_path=""),
                name="exportjob_done_has_file_and_expiry",
            ),
        ]
        indexes = [
            models.Index(fields=["survey", "-created_at"], name="exportjob_survey_recent"),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="done"),
                name="exportjob_done_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.format} export #{self.pk} of {self.survey_id}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0

    def is_downloadable(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == ExportStatus.DONE
            and bool(self.file_path)
            and self.expires_at is not None
            and now < self.expires_at
        )
