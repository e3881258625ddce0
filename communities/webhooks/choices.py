from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    """What an organisation's other systems can be told about, as they are named on the wire."""

    RESPONSE_CREATED = "response.created", _("A response was submitted")
    CASE_OPENED = "case.opened", _("A case was opened")
    CASE_UPDATED = "case.updated", _("A case changed (owner, status, note)")
    CASE_RESOLVED = "case.resolved", _("A case was resolved")
    MEMBER_JOINED = "member.joined", _("A member joined")
    MEMBER_UNSUBSCRIBED = "member.unsubscribed", _("A member unsubscribed")
    MEMBER_ERASED = "member.erased", _("A member's data was erased")
    REDEMPTION_REQUESTED = "redemption.requested", _("A reward was requested")
    REDEMPTION_DECIDED = "redemption.decided", _("A redemption was approved or rejected")
    # Sent only by "Send test event" on the endpoint's page; never subscribed to.
    PING = "ping", _("Test event")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    RETRYING = "retrying", _("Failed; will retry")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed; no more retries")
