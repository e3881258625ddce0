"""The outbox table: every email the system sends is a row here before it is a message."""

import uuid
from email.utils import parseaddr

from django.conf import settings
from django.db import models
from django.utils import timezone

from communities.managers import TenantManager
from communities.models import Organisation
from communities.outbox.choices import EmailStatus


def outbox_message_id() -> str:
    """A new, globally unique Message-ID for a row, fixed when the row is written: every
    attempt sends the same one, and a bounce or a reply names it back."""
    domain = settings.OUTBOX_MESSAGE_ID_DOMAIN or (
        parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "chorus.localhost"
    )
    return f"<outbox.{uuid.uuid4().hex}@{domain}>"


class OutboundEmail(models.Model):
    """The outbox: every email is a row first, written with what caused it, then sent."""

    # No index of its own: the contact lookup's (organisation, to_email, …) leads with it.
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    to_email = models.EmailField()
    template = models.CharField(max_length=100)
    context = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8, default="en")
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Unique by a constraint (Meta): unique=True would add a LIKE index on PostgreSQL.
    idempotency_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Not before this time (a delayed follow-up); null: as soon as possible.
    send_after = models.DateTimeField(null=True, blank=True)
    # Blank only on rows written before 0014; they are sent with the older
    # `<outbox-<id>.<key>@chorus>` form, stored here when sent.
    message_id = models.CharField(max_length=255, blank=True, default=outbox_message_id)

    objects = TenantManager()

    class Meta:
        # Moved from the feedback app; the table keeps its name (no data was copied).
        db_table = "feedback_outboundemail"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="outbox_idempotency_key"),
            models.CheckConstraint(
                condition=models.Q(status__in=EmailStatus.values), name="outbox_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=EmailStatus.SENT) | models.Q(sent_at__isnull=False),
                name="outbox_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="outbox_unsent",
            ),
            # A bounce or complaint names the message it is about (inbound mail).
            models.Index(fields=["message_id"], name="outbox_message_id"),
            # "When did we last write to this person?" (communities.outbox.contacts).
            models.Index(
                fields=["organisation", "to_email", "created_at"], name="outbox_contact_lookup"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.to_email} ({self.status})"
