"""Communities: creating and editing one, and publishing a new policy version."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import Community, Organisation
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
def community_create(*, organisation: Organisation, **fields: Any) -> Community:
    """A new community of the organisation, validated; its policy starts at version 1."""
    unknown = set(fields) - set(COMMUNITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown community fields: {sorted(unknown)}")
    community = Community(organisation=organisation, **fields)
    community.policy_published_at = timezone.now()
    _community_validate(community)
    return _community_save(community)


def _community_save(community: Community) -> Community:
    return unique_save(
        community,
        field="slug",
        message=_("Another community of this organisation already uses this address."),
    )


@transaction.atomic
def community_update(*, community: Community, **fields: Any) -> Community:
    """Save changes to a community. Changing the consent or privacy text publishes a new
    policy version, which members are asked to accept at their next visit."""
    unknown = set(fields) - set(COMMUNITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown community fields: {sorted(unknown)}")
    community = Community.objects.select_for_update().get(pk=community.pk)
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
    return _community_save(community)
