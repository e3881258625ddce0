"""The reward catalogue: creating and editing rewards, their images, offering and
withdrawing them. A voucher reward's codes are filled in rewards.services.vouchers.

Every change is audited in the organisation's log. An image is checked by its content
(Pillow decides what it is, never the file name), stored under the site's own name in the
default storage, and given a fresh `image_key` so a replaced picture gets a new URL.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps

from communities.models import Community, Organisation, User
from communities.services.audit import audit_record, audit_register
from rewards.choices import RewardKind
from rewards.models import Redemption, Reward, VoucherUpload

NAME_MAX_LENGTH = Reward._meta.get_field("name").max_length
DESCRIPTION_MAX_LENGTH = 2000
COST_MAX = 10_000_000
STOCK_MAX = 1_000_000
PER_MEMBER_LIMIT_MAX = 1000

# What Pillow calls each accepted format -> the extension the stored file gets. Only
# formats every browser shows; SVG (which can carry scripts) never opens in Pillow at all.
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
# Extension of a stored image -> the Content-Type it is served with.
IMAGE_CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}
IMAGE_MAX_SIDE = 4000


AUDIT_ACTIONS = {
    "reward.create": gettext_lazy("Reward created"),
    "reward.update": gettext_lazy("Reward changed"),
    "reward.activate": gettext_lazy("Reward offered again"),
    "reward.deactivate": gettext_lazy("Reward withdrawn"),
    "voucher_upload.create": gettext_lazy("Voucher codes uploaded"),
}


def catalogue_audit_register() -> None:
    """Name the catalogue's audit codes and targets (rewards' AppConfig.ready)."""
    audit_register(
        actions=AUDIT_ACTIONS,
        targets={"reward": Reward, "voucher_upload": VoucherUpload},
        target_labels={
            "reward": gettext_lazy("Reward"),
            "voucher_upload": gettext_lazy("Voucher code upload"),
        },
    )


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A refusal of one field that keeps its code (`exc.error_dict[field][0].code`)."""
    return ValidationError({field: [ValidationError(message, code=code)]})


# --- images ------------------------------------------------------------------------------


def reward_image_max_bytes() -> int:
    return int(getattr(settings, "REWARD_IMAGE_MAX_BYTES", 2 * 1024 * 1024))


def reward_image_check(*, upload: Any) -> str:
    """The extension the image is stored under, or ValidationError on "image": a PNG, JPEG,
    WebP or GIF by its content, at most REWARD_IMAGE_MAX_BYTES and 4000 × 4000 pixels."""
    limit = reward_image_max_bytes()
    if upload.size > limit:
        raise field_error(
            "image",
            _("The image is larger than %(size)s. Make it smaller and upload it again.")
            % {"size": size_text(limit)},
            "too_large",
        )
    not_an_image = field_error(
        "image",
        _("This file is not an image we can show. Upload a PNG, JPEG, WebP or GIF."),
        "not_image",
    )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind, (width, height) = image.format, image.size
            # Reads the whole file: a truncated or doctored image fails here, not on a page.
            image.verify()
    except Exception:  # Pillow raises many kinds (UnidentifiedImageError, SyntaxError, …)
        raise not_an_image from None
    finally:
        upload.seek(0)
    if kind not in IMAGE_FORMATS:
        raise not_an_image
    if width > IMAGE_MAX_SIDE or height > IMAGE_MAX_SIDE:
        raise field_error(
            "image",
            _("The image is %(width)d × %(height)d pixels; at most %(max)d × %(max)d are accepted.")
            % {"width": width, "height": height, "max": IMAGE_MAX_SIDE},
            "too_big",
        )
    return IMAGE_FORMATS[kind]


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(n)s MB") % {"n": f"{size / (1024 * 1024):g}"}
    return _("%(n)s KB") % {"n": f"{size / 1024:g}"}


def _image_put(*, reward: Reward, upload: Any, extension: str) -> str:
    """Store the checked image under a fresh key; returns the name of the one it replaced."""
    old = reward.image.name if reward.image else ""
    reward.image_key = secrets.token_hex(4)
    # The stored name is the site's own (reward_image_path): the uploader's name and
    # extension are never used, only the format Pillow found.
    reward.image.save(f"image.{extension}", _without_metadata(upload, extension), save=False)
    return old


def _without_metadata(upload: Any, extension: str) -> Any:
    """The image re-encoded without its metadata: a phone photo's EXIF can carry where
    and when it was taken, and members see these images. Turned upright first, since the
    orientation lives in that metadata. A GIF (animated, no EXIF) is kept as it is."""
    kind = {value: key for key, value in IMAGE_FORMATS.items()}[extension]
    if kind == "GIF":
        return upload
    upload.seek(0)
    with Image.open(upload) as original:
        image = ImageOps.exif_transpose(original)
        if kind == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, format=kind, **({"quality": 90} if kind in ("JPEG", "WEBP") else {}))
    upload.seek(0)
    return ContentFile(out.getvalue())


def _file_delete_on_commit(name: str) -> None:
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


# --- rewards -----------------------------------------------------------------------------


def _int_clean(
    errors: dict[str, list[str]], field: str, value: Any, *, low: int, high: int, required: bool
) -> int | None:
    if value is None or value == "":
        if required:
            errors[field] = [_("This field is required.")]
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = [_("Enter a whole number.")]
        return None
    if not low <= value <= high:
        errors[field] = [
            _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": f"{high:,}"}
        ]
        return None
    return value


def _text_clean(
    errors: dict[str, list[str]], field: str, value: Any, *, limit: int, required: bool
) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        errors[field] = [_("This field is required.")]
    elif len(text) > limit:
        errors[field] = [_("Use at most %(limit)d characters.") % {"limit": limit}]
    return text


def _translations_clean(
    errors: dict[str, list[str]], translations: Any, *, default_language: str
) -> dict[str, dict[str, str]]:
    """{language: {"name", "description"}} for the site's other languages; empties dropped."""
    clean: dict[str, dict[str, str]] = {}
    languages = [code for code, _name in settings.LANGUAGES if code != default_language]
    given = translations if isinstance(translations, Mapping) else {}
    for language in given:
        if language not in languages:
            errors.setdefault("translations", []).append(
                _("“%(language)s” is not one of the site's other languages.")
                % {"language": str(language)[:20]}
            )
    for language in languages:
        entry = given.get(language) or {}
        if not isinstance(entry, Mapping):
            entry = {}
        name = _text_clean(
            errors, f"name_{language}", entry.get("name"), limit=NAME_MAX_LENGTH, required=False
        )
        description = _text_clean(
            errors,
            f"description_{language}",
            entry.get("description"),
            limit=DESCRIPTION_MAX_LENGTH,
            required=False,
        )
        kept = {
            key: value for key, value in (("name", name), ("description", description)) if value
        }
        if kept:
            clean[language] = kept
    return clean


def _reward_clean(
    *, organisation: Organisation, reward: Reward | None, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The reward's fields as stored, or one ValidationError naming every wrong field."""
    errors: dict[str, list[str]] = {}
    community = fields.get("community")
    if community is not None and not (
        isinstance(community, Community) and community.organisation_id == organisation.pk
    ):
        errors["community"] = [_("Choose one of your organisation's communities.")]
    kind = fields.get("kind")
    if kind not in RewardKind.values:
        errors["kind"] = [_("Choose one of the kinds offered.")]
    name = _text_clean(errors, "name", fields.get("name"), limit=NAME_MAX_LENGTH, required=True)
    description = _text_clean(
        errors,
        "description",
        fields.get("description"),
        limit=DESCRIPTION_MAX_LENGTH,
        required=False,
    )
    translations = _translations_clean(
        errors, fields.get("translations"), default_language=organisation.default_language
    )
    cost = _int_clean(errors, "cost", fields.get("cost"), low=1, high=COST_MAX, required=True)
    stock = _int_clean(errors, "stock", fields.get("stock"), low=0, high=STOCK_MAX, required=False)
    if kind == RewardKind.VOUCHER and stock is not None:
        errors["stock"] = [
            _(
                "A voucher reward's stock is its unused codes: leave this empty and upload "
                "the codes."
            )
        ]
    limit = _int_clean(
        errors,
        "per_member_limit",
        fields.get("per_member_limit"),
        low=1,
        high=PER_MEMBER_LIMIT_MAX,
        required=False,
    )
    window = {}
    for field in ("available_from", "available_until"):
        value = fields.get(field)
        if value is not None and not (isinstance(value, datetime) and value.tzinfo is not None):
            errors[field] = [_("Enter a valid date and time.")]
            value = None
        window[field] = value
    start, end = window["available_from"], window["available_until"]
    if start is not None and end is not None and end <= start:
        errors["available_until"] = [_("The end of the availability must come after its start.")]
    if reward is not None and "kind" not in errors and kind != reward.kind:
        if reward.codes.exists():
            errors["kind"] = [
                _("This reward has voucher codes, so it stays a voucher reward. Create a new one.")
            ]
        elif Redemption.objects.filter(reward=reward).exists():
            errors["kind"] = [
                _("Members have redeemed this reward, so its kind cannot change. Create a new one.")
            ]
    if errors:
        raise ValidationError(errors, code="invalid")
    return {
        "community": community,
        "kind": kind,
        "name": name,
        "description": description,
        "translations": translations,
        "cost": cost,
        "stock": stock,
        "per_member_limit": limit,
        "available_from": start,
        "available_until": end,
        "auto_approve": bool(fields.get("auto_approve")),
        "active": bool(fields.get("active")),
    }


@transaction.atomic
def reward_create(
    *,
    organisation: Organisation,
    actor: User | None,
    community: Community | None,
    kind: str,
    name: str,
    cost: int,
    description: str = "",
    translations: Mapping[str, Mapping[str, str]] | None = None,
    image: Any = None,
    stock: int | None = None,
    per_member_limit: int | None = None,
    available_from: datetime | None = None,
    available_until: datetime | None = None,
    auto_approve: bool = False,
    active: bool = True,
) -> Reward:
    """A new reward in the catalogue, with its image if one is given. Audited as
    "reward.create"; ValidationError names every wrong field and nothing is written."""
    fields = {
        "community": community,
        "kind": kind,
        "name": name,
        "description": description,
        "translations": translations,
        "cost": cost,
        "stock": stock,
        "per_member_limit": per_member_limit,
        "available_from": available_from,
        "available_until": available_until,
        "auto_approve": auto_approve,
        "active": active,
    }
    clean = _reward_clean(organisation=organisation, reward=None, fields=fields)
    extension = reward_image_check(upload=image) if image else ""
    reward = Reward(organisation=organisation, **clean)
    reward.full_clean(exclude=["image"])
    reward.save()
    if image:
        _image_put(reward=reward, upload=image, extension=extension)
        reward.save(update_fields=["image", "image_key", "updated_at"])
    audit_record(
        organisation=organisation,
        actor=actor,
        action="reward.create",
        target=reward,
        changes={
            field: [None, value]
            for field, value in {**clean, "image": reward.image.name}.items()
            if value not in (None, "", {})
        },
    )
    return reward


@transaction.atomic
def reward_update(
    *,
    reward: Reward,
    actor: User | None,
    community: Community | None,
    kind: str,
    name: str,
    cost: int,
    description: str = "",
    translations: Mapping[str, Mapping[str, str]] | None = None,
    image: Any = None,
    image_clear: bool = False,
    stock: int | None = None,
    per_member_limit: int | None = None,
    available_from: datetime | None = None,
    available_until: datetime | None = None,
    auto_approve: bool = False,
    active: bool = True,
) -> Reward:
    """Edit a reward; a new image replaces the old one (deleted after commit), `image_clear`
    removes it. Audits the fields that changed and writes nothing when none did."""
    locked = (
        Reward.objects.select_for_update(of=("self",))
        .select_related("organisation", "community")
        .get(pk=reward.pk)
    )
    fields = {
        "community": community,
        "kind": kind,
        "name": name,
        "description": description,
        "translations": translations,
        "cost": cost,
        "stock": stock,
        "per_member_limit": per_member_limit,
        "available_from": available_from,
        "available_until": available_until,
        "auto_approve": auto_approve,
        "active": active,
    }
    clean = _reward_clean(organisation=locked.organisation, reward=locked, fields=fields)
    extension = reward_image_check(upload=image) if image else ""
    changes = {
        field: [getattr(locked, field), value]
        for field, value in clean.items()
        if getattr(locked, field) != value
    }
    for field, (_before, after) in changes.items():
        setattr(locked, field, after)
    old_image = ""
    if image:
        old_image = _image_put(reward=locked, upload=image, extension=extension)
        changes["image"] = [old_image, locked.image.name]
    elif image_clear and locked.image:
        old_image = locked.image.name
        locked.image = ""
        locked.image_key = ""
        changes["image"] = [old_image, ""]
    if not changes:
        return locked
    locked.full_clean(exclude=["image"])
    locked.save()
    _file_delete_on_commit(old_image)
    audit_record(
        organisation=locked.organisation,
        actor=actor,
        action="reward.update",
        target=locked,
        changes=changes,
    )
    return locked


@transaction.atomic
def reward_active_set(*, reward: Reward, actor: User | None, active: bool) -> Reward:
    """Offer a reward to members again, or withdraw it (requests already made go on).
    Setting what is already set changes nothing and logs nothing."""
    locked = Reward.objects.select_for_update().select_related("organisation").get(pk=reward.pk)
    if locked.active == active:
        return locked
    locked.active = active
    locked.save(update_fields=["active", "updated_at"])
    audit_record(
        organisation=locked.organisation,
        actor=actor,
        action="reward.activate" if active else "reward.deactivate",
        target=locked,
    )
    return locked
