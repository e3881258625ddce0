"""Writes of the communities app, by area: one module each (see their docstrings).

Within communities, import from the module that defines a name. This package re-exports
what other apps, the benchmarks and the tests import from `communities.services`; a test
that patches a constant must patch the defining module, not this re-export.
"""

from communities.services.attributes import (
    attribute_create,
    attribute_delete,
    attribute_update,
    attributes_clean,
)
from communities.services.audit import audit_record, audit_register
from communities.services.common import member_lock
from communities.services.communities import community_create, community_update
from communities.services.consent import (
    consent_append,
    consent_record,
    email_unsubscribe,
    unsubscribe_token,
)
from communities.services.imports import (
    member_import_check,
    member_import_commit,
    member_import_confirm,
    member_import_create,
)
from communities.services.joining import (
    member_confirm,
    member_confirm_token,
    member_invitation_token,
)
from communities.services.lifecycle import (
    member_activity_touch,
    member_activity_touch_locked,
    members_lifecycle_refresh,
    personal_data_expire,
)
from communities.services.members import MEMBER_CURRENT_STATUSES, referral_code_new
from communities.services.organisations import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    staff_invitation_accept,
    staff_invitation_create,
    staff_invitation_token,
    staff_role_change,
    staff_role_remove,
)
from communities.services.segments import segment_create, segment_filter_clean, segment_update

__all__ = [
    "consent_append",
    "member_activity_touch_locked",
    "MEMBER_CURRENT_STATUSES",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "attribute_create",
    "attribute_delete",
    "attribute_update",
    "attributes_clean",
    "audit_record",
    "audit_register",
    "community_create",
    "community_update",
    "consent_record",
    "email_unsubscribe",
    "member_activity_touch",
    "member_confirm",
    "member_confirm_token",
    "member_import_check",
    "member_import_commit",
    "member_import_confirm",
    "member_import_create",
    "member_invitation_token",
    "member_lock",
    "members_lifecycle_refresh",
    "personal_data_expire",
    "referral_code_new",
    "segment_create",
    "segment_filter_clean",
    "segment_update",
    "staff_invitation_accept",
    "staff_invitation_create",
    "staff_invitation_token",
    "staff_role_change",
    "staff_role_remove",
    "unsubscribe_token",
]
