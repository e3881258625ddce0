from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Organisation, TimeStampedModel
from feedback.choices import CaseEventKind, CasePriority, CaseStatus
from feedback.reasons import reasons_parse, reasons_render


class Case(TimeStampedModel):
    # No index of its own: the inbox's (organisation, …) indexes lead with it.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="cases", db_index=False
    )
    response = models.OneToOneField(
        "surveys.Response", on_delete=models.CASCADE, related_name="case"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    # Why it was opened, as data put into words in the reader's language (feedback.reasons):
    # [{"code": "nps", "question": 12, "value": 0, "threshold": 6}, ...].
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    # Text stored before reasons were data, kept where it could not be read back into them.
    reason_text = models.CharField(_("reason (old text)"), max_length=200, blank=True)
    team = models.ForeignKey(
        "feedback.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        verbose_name=_("team"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
    )
    # The SLA's two clocks (feedback.services.sla): the resolution target is `due_at`.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    # When staff first acted on the case (a note, a reply, a status change).
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    # The due times already escalated, so a breach is escalated once (a reopened case's
    # new due time is a new breach).
    response_escalated_for = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_escalated_for = models.DateTimeField(null=True, blank=True, editable=False)
    root_cause = models.ForeignKey(
        "feedback.RootCause",
        null=True,
        blank=True,
        # A cause filed on cases is retired, not deleted; the organisation's erasure
        # takes both.
        on_delete=models.RESTRICT,
        related_name="cases",
        verbose_name=_("root cause"),
    )
    notes = models.TextField(_("notes"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    reply_text = models.TextField(_("respondent's reply"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CaseStatus.values), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CaseStatus.RESOLVED)
                | models.Q(resolved_at__isnull=False),
                name="case_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CaseStatus.CLOSED) | models.Q(closed_at__isnull=False),
                name="case_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "-created_at"]),
            models.Index(fields=["status", "due_at"], name="case_sla_due"),
            # The inbox's pages (feedback.selectors.case_inbox): each filter it offers on
            # the case itself, in the default newest-first order, so a page of 100,000
            # cases reads 50 index entries rather than sorting the organisation's cases.
            models.Index(fields=["organisation", "-created_at", "-id"], name="case_inbox_newest"),
            models.Index(
                fields=["organisation", "team", "-created_at", "-id"], name="case_inbox_team"
            ),
            models.Index(
                fields=["organisation", "assignee", "-created_at", "-id"],
                name="case_inbox_assignee",
            ),
            models.Index(
                fields=["organisation", "priority", "-created_at", "-id"],
                name="case_inbox_priority",
            ),
            models.Index(fields=["organisation", "due_at", "id"], name="case_inbox_due"),
        ]

    def __str__(self) -> str:
        return f"case #{self.pk} ({self.status})"

    @property
    def reason(self) -> str:
        """Why the case was opened, in the active language."""
        return reasons_render(self.reasons) if self.reasons else self.reason_text

    @reason.setter
    def reason(self, text: str) -> None:
        # Code (and tests) that still describe a case in the old English words: kept as
        # data when they read as reasons, else as the text itself.
        parsed = reasons_parse(text)
        self.reasons = parsed or []
        self.reason_text = "" if parsed else (text or "")[:200]


class CaseEventIsFinal(RuntimeError):
    """A timeline event was about to be changed or deleted one by one: the timeline is
    append-only."""


class CaseEvent(models.Model):
    """One entry of a case's timeline: opened, assigned, status changed, a note, an email.

    What happened is stored as data — `kind` and its parameters in `data` (the statuses
    before and after, who was assigned, a note's body) — and put into words in the
    reader's language when shown (feedback.timeline). A change made with an API key has no
    `actor`; `data["api_key"]` names the key. Rows are written once: the timeline is the
    case's history, and a member's erasure scrubs text in it with an UPDATE, never by
    saving an event again.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    # No index of its own: the timeline's (case, created_at, id) index leads with it.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(_("what happened"), max_length=20, choices=CaseEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=CaseEventKind.values), name="case_event_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["case", "created_at", "id"], name="case_event_timeline")]

    def __str__(self) -> str:
        return f"{self.kind} on case #{self.case_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise CaseEventIsFinal("A case's timeline event cannot be changed once written.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # Events leave with their case (a cascade deletes in bulk, never through here).
        raise CaseEventIsFinal("A case's timeline event cannot be deleted on its own.")
