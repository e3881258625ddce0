"""What each app holds about a member, contributed by that app.

A member's data export and erasure, their portal and the staff member page show or
remove what every app holds, but communities is the base layer and imports no other app.
So each app registers one `MemberData` in its AppConfig.ready (the way apps register with
Django's admin), naming the tables it answers for and how it exports, erases and shows
them; the functions here compose the contributions. A table that holds a member's data
and that no contribution names fails `tests/communities/test_member_data_registry.py`.

Contributions run in registration order, which is INSTALLED_APPS order, the layer order
(communities, rewards, surveys, feedback); erasure runs them in reverse, so an app above
still finds the rows below it (a case's response) before those are unlinked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from communities.models import Member, Organisation


@dataclass(frozen=True)
class MemberErasure:
    """A member about to be erased, read under their row lock before anything changed."""

    member: Member
    organisation_id: int
    email: str
    name: str
    # The address and name, where long enough to search free text for them.
    needles: list[str]
    # The user account stays (staff, or a member of another community): only unlinked.
    keeps_account: bool


@dataclass(frozen=True)
class MemberData:
    """One app's part of a member: its tables and what to do with them.

    `models` are the "app_label.ModelName" labels of the tables this part answers for;
    `unrelated` names tables that look like member data but are not, with the reason.
    """

    app_label: str
    models: tuple[str, ...]
    # -> {section: data} merged into the member's download
    export: Callable[[Member], dict[str, Any]] | None = None
    erase: Callable[[MemberErasure], None] | None = None
    # -> context merged into the member portal (the community home of a signed-in member)
    portal: Callable[[Member, str], dict[str, Any]] | None = None
    # -> context merged into the staff member page
    staff_overview: Callable[[Organisation, Member], dict[str, Any]] | None = None
    unrelated: dict[str, str] = field(default_factory=dict)


# What erasure writes where a person's address or name stood in text that stays.
ERASED_PLACEHOLDER = "[erased]"

_registry: dict[str, MemberData] = {}


def export_time(value) -> str | None:
    """A timestamp as every part of the export writes it."""
    return value.isoformat() if value else None


def member_data_register(part: MemberData) -> None:
    """Register an app's part; registering the same app again replaces it."""
    _registry[part.app_label] = part


def member_data_parts() -> list[MemberData]:
    return list(_registry.values())


def member_data_export(*, member: Member) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for part in _registry.values():
        if part.export is not None:
            data.update(part.export(member))
    return data


def member_data_erase(*, erasure: MemberErasure) -> None:
    for part in reversed(list(_registry.values())):
        if part.erase is not None:
            part.erase(erasure)


def member_portal(*, member: Member, language: str) -> dict[str, Any]:
    """What the community home shows a signed-in member besides the open surveys."""
    context: dict[str, Any] = {}
    for part in _registry.values():
        if part.portal is not None:
            context.update(part.portal(member, language))
    return context


def member_staff_overview(*, organisation: Organisation, member: Member) -> dict[str, Any]:
    """What a staff member page shows of one member, read across the apps."""
    if member.organisation_id != organisation.pk:
        raise type(member).DoesNotExist
    context: dict[str, Any] = {}
    for part in _registry.values():
        if part.staff_overview is not None:
            context.update(part.staff_overview(organisation, member))
    return context
