"""The audit log: who changed what in an organisation, when, and the values before and after."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.models.organisations import Organisation, User


class AuditEntryIsFinal(RuntimeError):
    """An audit entry was about to be changed or deleted one by one: the log is append-only."""


class AuditEntry(models.Model):
    """One change a person (or the system, actor empty) made to an organisation's settings or data.

    `action` is a stable code ("organisation.settings", "location.create", …) that pages
    translate when shown; `changes` maps each changed field to [before, after].
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("object type"), max_length=64, blank=True)
    target_id = models.CharField(_("object"), max_length=64, blank=True)
    target_label = models.CharField(_("object name"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="audit_org_recent")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs) -> None:
        # Append-only: a row is written once. force_insert also stops a new instance given an
        # existing pk from overwriting that row (Django would otherwise try an UPDATE first).
        if not self._state.adding:
            raise AuditEntryIsFinal("An audit entry cannot be changed once written.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # Entries go only in bulk, when they pass the organisation's retention
        # (communities.services.audit.audit_entries_expire).
        raise AuditEntryIsFinal("An audit entry cannot be deleted; retention removes old ones.")
