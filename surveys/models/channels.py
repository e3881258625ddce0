"""How a survey reaches people: channels, personal invitations and their batches, and
events reported by other systems.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Community, Location, Member, Organisation, TimeStampedModel
from surveys.choices import BatchStatus, ChannelKind, EventOutcome, TriggerEvent
from surveys.models.surveys import Survey


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Channel(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=8, choices=ChannelKind.choices)
    device_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="channels"
    )
    idle_reset_seconds = models.PositiveSmallIntegerField(default=30)
    active = models.BooleanField(default=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ChannelKind.values), name="channel_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=ChannelKind.KIOSK) | models.Q(device_token__isnull=False),
                name="channel_kiosk_has_device_token",
            ),
            models.UniqueConstraint(
                fields=["survey"],
                condition=models.Q(kind=ChannelKind.LINK),
                name="channel_one_link_per_survey",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.kind}"


class SurveyInvitation(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    email = models.EmailField(blank=True)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    external_ref = models.CharField(_("external reference"), max_length=200, blank=True)
    batch = models.ForeignKey(
        "InvitationBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="invitation_one_per_external_ref",
            ),
            models.CheckConstraint(
                condition=models.Q(member__isnull=False) | ~models.Q(email=""),
                name="invitation_has_recipient",
            ),
            # A batch re-run after a worker died finds its invitations already there.
            models.UniqueConstraint(
                fields=["batch", "email"],
                condition=models.Q(batch__isnull=False),
                name="invitation_one_per_batch_address",
            ),
        ]
        indexes = [
            models.Index(
                fields=["survey", "sent_at"],
                condition=models.Q(responded_at__isnull=True),
                name="invitation_awaiting_answer",
            ),
            models.Index(fields=["organisation", "email", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.email or self.member}"


class InvitationBatch(TimeStampedModel):
    """One staff send of a survey by email: who to, and how far the workers have got."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="batches")
    created_by = models.ForeignKey(
        "communities.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # [[email, name], …] for a pasted or imported list.
    recipients = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"batch #{self.pk} of {self.survey_id}"


class SurveyEvent(models.Model):
    """An event another system reported; stored before anything else happens to it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=TriggerEvent.choices)
    external_ref = models.CharField(max_length=200)
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, blank=True)
    survey = models.ForeignKey(
        Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    received_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=EventOutcome.choices, default=EventOutcome.PENDING
    )
    invitation = models.ForeignKey(
        SurveyInvitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "external_ref"], name="event_once_per_reference"
            ),
        ]
        indexes = [
            models.Index(
                fields=["send_after"],
                condition=models.Q(processed_at__isnull=True),
                name="event_awaiting_processing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_ref}"
