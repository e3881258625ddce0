"""Communities: creating and editing one, and publishing a new policy version; each audited
in the transaction that makes it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import Community, Organisation, User
from communities.services.audit import audit_record
from communities.services.common import unique_save

COMMUNITY_FIELDS = (
    "name",
    "slug",
    "description",
    "join_mode",
    "consent_text",
    "privacy_policy_text",
    "logo",
    "brand_colour",
    "welcome_text",
    "new_days",
    "lapsed_days",
    "churned_days",
)
# The texts members consent to: changing either publishes a new policy version.
POLICY_FIELDS = ("consent_text", "privacy_policy_text")


def _community_validate(community: Community) -> None:
    errors: dict[str, list[str]] = {}
    if community.brand_colour:
        community.brand_colour = community.brand_colour.strip().lower()
    if community.lapsed_days and community.churned_days <= community.lapsed_days:
        errors["churned_days"] = [
            _("A member must count as lapsed before churned: make this more than %(days)d.")
            % {"days": community.lapsed_days}
        ]
    try:
        community.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            # The slug constraint's own text names the model's fields; say it plainly.
            if field == "__all__" and any("slug" in m.lower() for m in messages):
                errors.setdefault("slug", []).append(
                    _("Another community of this organisation already uses this address.")
                )
                continue
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def community_create(
    *, organisation: Organisation, actor: User | None = None, **fields: Any
) -> Community:
    """A new community of the organisation, validated; its policy starts at version 1. The
    audit entry keeps the texts of that first version."""
    unknown = set(fields) - set(COMMUNITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown community fields: {sorted(unknown)}")
    community = Community(organisation=organisation, **fields)
    community.policy_published_at = timezone.now()
    _community_validate(community)
    community = _community_save(community)
    _audit(
        community,
        actor=actor,
        action="community.create",
        changes={
            field: [None, getattr(community, field)]
            for field in (*COMMUNITY_FIELDS, "policy_version")
            if getattr(community, field) not in ("", None)
        },
    )
    return community


def _audit(community: Community, *, actor: User | None, action: str, changes: dict) -> None:
    audit_record(
        organisation=community.organisation,
        actor=actor,
        action=action,
        target=community,
        changes=changes,
    )


def _community_save(community: Community) -> Community:
    return unique_save(
        community,
        field="slug",
        message=_("Another community of this organisation already uses this address."),
    )


@transaction.atomic
def community_update(
    *, community: Community, actor: User | None = None, **fields: Any
) -> Community:
    """Save changes to a community. Changing the consent or privacy text publishes a new
    policy version, which members are asked to accept at their next visit.

    Audited as a change (the other fields) and a policy publication (the version and the
    texts before and after), each only when something of it changed."""
    unknown = set(fields) - set(COMMUNITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown community fields: {sorted(unknown)}")
    community = Community.objects.select_for_update().get(pk=community.pk)
    before = {field: getattr(community, field) for field in (*fields, "policy_version")}
    policy_changed = any(
        field in fields and (fields[field] or "") != getattr(community, field)
        for field in POLICY_FIELDS
    )
    for field, value in fields.items():
        setattr(community, field, value)
    if policy_changed:
        community.policy_version += 1
        community.policy_published_at = timezone.now()
    _community_validate(community)
    community = _community_save(community)
    after = {field: getattr(community, field) for field in before}
    policy = (*POLICY_FIELDS, "policy_version")
    _audit(
        community,
        actor=actor,
        action="community.update",
        changes={f: [before[f], after[f]] for f in before if f not in policy},
    )
    if policy_changed:
        _audit(
            community,
            actor=actor,
            action="community.policy_publish",
            changes={f: [before[f], after[f]] for f in before if f in policy},
        )
    return community
