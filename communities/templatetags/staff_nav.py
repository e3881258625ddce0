"""The staff navbar: role checks for links, and the organisation switcher."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from communities.permissions import can_manage, can_read_audit, can_read_results, can_work_cases
from communities.selectors import staff_roles_of

register = template.Library()

PERMISSIONS = {
    "manage": can_manage,
    "read_results": can_read_results,
    "work_cases": can_work_cases,
    "read_audit": can_read_audit,
}

# Which list page a staff URL belongs to (by its name's first word), and who may open it:
# switching organisation keeps you in the same section when your role there allows it.
SECTIONS = {
    "survey": ("survey_list", can_read_results),
    "question": ("survey_list", can_read_results),
    "batch": ("survey_list", can_read_results),
    "kiosk": ("survey_list", can_read_results),
    "case": ("case_list", can_work_cases),
    "community": ("community_list", can_read_results),
    "attribute": ("community_list", can_read_results),
    "member": ("community_list", can_read_results),
    "segment": ("community_list", can_read_results),
    "team": ("team", can_manage),
    "staff": ("team", can_manage),
    "api": ("api_tokens", can_manage),
    "settings": ("settings", can_manage),
    "audit": ("audit_log", can_read_audit),
    "location": ("location_list", can_read_results),
    "reward": ("reward_list", can_read_results),
    "redemption": ("reward_list", can_read_results),
    "voucher": ("reward_list", can_read_results),
    "rewards": ("reward_list", can_read_results),
    "tier": ("reward_list", can_read_results),
}


@register.filter
def can(role: str | None, what: str) -> bool:
    """`{% if role|can:"manage" %}`: the same role rules the views enforce."""
    return PERMISSIONS[what](role)


def switch_url(*, url_name: str | None, organisation_slug: str, role: str) -> str:
    """The page to open in another organisation: the same section if the role allows it,
    else where that role starts (surveys, or cases for an agent)."""
    section = SECTIONS.get((url_name or "").split("_")[0])
    if section is not None and section[1](role):
        return reverse(f"staff:{section[0]}", args=[organisation_slug])
    name = "survey_list" if can_read_results(role) else "case_list"
    return reverse(f"staff:{name}", args=[organisation_slug])


@register.inclusion_tag("communities/_org_switcher.html", takes_context=True)
def org_switcher(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    current = context.get("organisation")
    # Outside an organisation (the staff home) the page itself lists them all.
    if request is None or current is None or not request.user.is_authenticated:
        return {"choices": [], "current": current}
    roles = getattr(request, "staff_roles", None)
    if roles is None:
        roles = staff_roles_of(user=request.user)
    match = request.resolver_match
    url_name = match.url_name if match is not None and match.namespace == "staff" else None
    choices = [
        {
            "organisation": r.organisation,
            "role": r.get_role_display(),
            "url": switch_url(
                url_name=url_name, organisation_slug=r.organisation.slug, role=r.role
            ),
            "current": current is not None and r.organisation_id == current.pk,
        }
        for r in roles
    ]
    return {"choices": choices, "current": current}
