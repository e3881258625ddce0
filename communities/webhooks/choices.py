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


class AttemptError(models.TextChoices):
    """Why an attempt did not deliver, as the delivery log shows it (never the receiver's
    raw exception text, which may echo what it was sent)."""

    TIMEOUT = "timeout", _("No answer in time")
    CONNECT = "connect", _("Could not connect")
    TLS = "tls", _("TLS handshake or certificate failed")
    DNS = "dns", _("The host name does not resolve")
    PROTOCOL = "protocol", _("The answer was not valid HTTP")
    BLOCKED_ADDRESS = "blocked_address", _("The address is private or reserved (refused)")
    INVALID_URL = "invalid_url", _("The URL is not valid")
    REDIRECT = "redirect", _("Answered with a redirect (not followed)")
    HTTP_4XX = "http_4xx", _("Answered with a client error (4xx)")
    HTTP_5XX = "http_5xx", _("Answered with a server error (5xx)")
    HTTP_OTHER = "http_other", _("Answered with an unexpected status")
    ENDPOINT_INACTIVE = "endpoint_inactive", _("The endpoint is disabled")


class DisabledReason(models.TextChoices):
    """Why an endpoint stopped receiving (WebhookEndpoint.disabled_reason)."""

    FAILING = "failing", _("Every delivery failed for too long")
    STAFF = "staff", _("Disabled by staff")
