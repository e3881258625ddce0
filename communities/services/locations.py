"""Stores (locations): creating one, editing it, archiving it and bringing it back.

Each change is audited. A store's code is its short name in other systems and URLs: a slug,
unique in the organisation (archived stores keep theirs). Its manager is one of the
organisation's staff. Archived stores keep their kiosks, answers and reports; surveys
refuses new kiosks for them.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from communities.models import Location, Organisation, StaffRole, User
from communities.services.audit import audit_record
from communities.services.common import unique_save

NAME_MAX_LENGTH = Location._meta.get_field("name").max_length
CODE_MAX_LENGTH = Location._meta.get_field("code").max_length
_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EDITABLE_FIELDS = ("name", "code", "language", "manager")


def location_code_suggest(*, organisation: Organisation, name: str) -> str:
    """A free code made from the name ("Siam Paragon" -> "siam-paragon", then "-2", …);
    empty when the name has no letters a code can use (a Thai or Hebrew name)."""
    base = re.sub(r"[-_\s]+", "-", slugify(name or "")).strip("-")[:CODE_MAX_LENGTH].strip("-")
    if not base:
        return ""
    taken = set(
        Location.objects.for_organisation(organisation)
        .filter(code__startswith=base)
        .values_list("code", flat=True)
    )
    code, n = base, 1
    while code in taken:
        n += 1
        suffix = f"-{n}"
        code = base[: CODE_MAX_LENGTH - len(suffix)].strip("-") + suffix
    return code


def _duplicate(code: str) -> ValidationError:
    return ValidationError(
        {
            "code": [
                _("Another store already has the code “%(code)s”; choose another.") % {"code": code}
            ]
        },
        code="duplicate",
    )


def _location_clean(
    *,
    organisation: Organisation,
    location: Location | None,
    name: Any,
    code: Any,
    language: Any,
    manager: User | None,
) -> dict[str, Any]:
    """The store's fields as stored, or one ValidationError naming every wrong field."""
    errors: dict[str, list[str]] = {}
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = [_("Give the store a name.")]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [_("Use at most %(limit)d characters.") % {"limit": NAME_MAX_LENGTH}]
    code = code.strip().lower() if isinstance(code, str) else ""
    if not code and location is None and name and "name" not in errors:
        code = location_code_suggest(organisation=organisation, name=name)
    if not code:
        errors["code"] = [
            _(
                "Give the store a code: lower-case letters a–z, digits and hyphens, "
                "like siam-paragon."
            )
        ]
    elif len(code) > CODE_MAX_LENGTH or not _CODE.match(code):
        errors["code"] = [
            _(
                "Use at most %(limit)d lower-case letters a–z, digits and hyphens, "
                "like siam-paragon."
            )
            % {"limit": CODE_MAX_LENGTH}
        ]
    language = language if isinstance(language, str) else None
    if language is None or (language and language not in dict(settings.LANGUAGES)):
        errors["language"] = [_("Choose one of the languages offered.")]
    if manager is not None and not (
        isinstance(manager, User)
        and StaffRole.objects.filter(organisation=organisation, user=manager).exists()
    ):
        errors["manager"] = [_("Choose the manager among your organisation's staff.")]
    if errors:
        raise ValidationError(errors, code="invalid")
    others = Location.objects.for_organisation(organisation).filter(code=code)
    if location is not None:
        others = others.exclude(pk=location.pk)
    if others.exists():
        raise _duplicate(code)
    return {"name": name, "code": code, "language": language, "manager": manager}


@transaction.atomic
def location_create(
    *,
    organisation: Organisation,
    actor: User | None,
    name: str,
    code: str = "",
    language: str = "",
    manager: User | None = None,
) -> Location:
    """A new store; an empty code is made from the name. Audited as "location.create"."""
    clean = _location_clean(
        organisation=organisation,
        location=None,
        name=name,
        code=code,
        language=language,
        manager=manager,
    )
    location = Location(organisation=organisation, **clean)
    unique_save(location, field="code", message=_duplicate(clean["code"]).messages[0])
    audit_record(
        organisation=organisation,
        actor=actor,
        action="location.create",
        target=location,
        changes={field: [None, value] for field, value in clean.items() if value},
    )
    return location


@transaction.atomic
def location_update(
    *,
    location: Location,
    actor: User | None,
    name: str,
    code: str,
    language: str,
    manager: User | None,
) -> Location:
    """Rename or otherwise edit a store (archived or not); audits the fields that changed,
    and writes nothing when none did."""
    location = (
        # of=self: PostgreSQL will not lock the nullable side of the manager join.
        Location.objects.select_for_update(of=("self",))
        .select_related("organisation", "manager")
        .get(pk=location.pk)
    )
    clean = _location_clean(
        organisation=location.organisation,
        location=location,
        name=name,
        code=code,
        language=language,
        manager=manager,
    )
    changes = {
        field: [getattr(location, field), value]
        for field, value in clean.items()
        if getattr(location, field) != value
    }
    if not changes:
        return location
    for field, (_before, after) in changes.items():
        setattr(location, field, after)
    unique_save(location, field="code", message=_duplicate(clean["code"]).messages[0])
    audit_record(
        organisation=location.organisation,
        actor=actor,
        action="location.update",
        target=location,
        changes=changes,
    )
    return location


def _archived_set(*, location: Location, actor: User | None, archived: bool) -> Location:
    location = (
        Location.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=location.pk)
    )
    if (location.archived_at is not None) == archived:
        return location  # a second click changes nothing and logs nothing
    location.archived_at = timezone.now() if archived else None
    location.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        organisation=location.organisation,
        actor=actor,
        action="location.archive" if archived else "location.unarchive",
        target=location,
    )
    return location


@transaction.atomic
def location_archive(*, location: Location, actor: User | None) -> Location:
    """Archive a store: it keeps its history, and no new kiosk can be registered for it.
    Archiving an archived store changes nothing."""
    return _archived_set(location=location, actor=actor, archived=True)


@transaction.atomic
def location_unarchive(*, location: Location, actor: User | None) -> Location:
    """Bring an archived store back into use (its code is still its own)."""
    return _archived_set(location=location, actor=actor, archived=False)
