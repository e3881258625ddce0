"""The language a staff member reads Chorus in: chosen once, remembered on their account."""

from __future__ import annotations

from django.conf import settings

from communities.models import User


def language_supported(value: str | None) -> str | None:
    """The supported language `value` names ("he", "he-IL", "HE"), or None."""
    code = (value or "").strip().lower().split("-")[0]
    return code if code in {c for c, _name in settings.LANGUAGES} else None


def user_language_set(*, user: User, language: str) -> bool:
    """Remember `language` on the user's account; False (nothing written) when it is not a
    supported language or is already theirs."""
    code = language_supported(language)
    if code is None or code == user.locale:
        return False
    # One column, without touching last_login or a concurrently edited name.
    User.objects.filter(pk=user.pk).update(locale=code)
    user.locale = code
    return True
