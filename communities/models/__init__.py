"""The communities app's models, by area; every model is importable from here."""

from communities.models.audit import AuditEntry, AuditEntryIsFinal
from communities.models.base import TimeStampedModel, same_site_path_validator
from communities.models.communities import (
    AttributeDefinition,
    Community,
    ConsentRecord,
    EmailSuppression,
    Location,
    Member,
    Segment,
)
from communities.models.idempotency import IdempotencyRecord
from communities.models.imports import MemberImport
from communities.models.lifecycle import LifecycleSnapshot
from communities.models.links import LinkToken, LinkTokenKind
from communities.models.organisations import (
    ApiToken,
    Organisation,
    StaffInvitation,
    StaffRole,
    User,
)
from communities.models.sessions import UserSession

# The outbox model lives with its services in communities.outbox; importing it here
# registers it with the app (it needs Organisation above, hence at the end).
from communities.outbox.models import OutboundEmail
from communities.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "AuditEntry",
    "AuditEntryIsFinal",
    "ApiToken",
    "AttributeDefinition",
    "Community",
    "ConsentRecord",
    "EmailSuppression",
    "IdempotencyRecord",
    "LifecycleSnapshot",
    "LinkToken",
    "LinkTokenKind",
    "Location",
    "Member",
    "MemberImport",
    "Organisation",
    "OutboundEmail",
    "Segment",
    "StaffInvitation",
    "StaffRole",
    "TimeStampedModel",
    "User",
    "UserSession",
    "same_site_path_validator",
]
