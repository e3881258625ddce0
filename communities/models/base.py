"""What every model of the app builds on: timestamps, and the same-site path rule."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def same_site_path_validator(value: str) -> None:
    """A path on this site: starts with one "/", no scheme, no host, no backslash tricks."""
    if value and (
        not value.startswith("/") or value.startswith("//") or "\\" in value or ":" in value
    ):
        raise ValidationError(
            _(
                "Use a path on this site, like /static/img/logo.png "
                "(not an address on another host)."
            ),
            code="external",
        )


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
