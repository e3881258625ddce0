from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.base_user import BaseUserManager
from django.db import models

if TYPE_CHECKING:
    from communities.models import Organisation, User


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class OrganisationQuerySet(models.QuerySet):
    """Every tenant-owned queryset: the one place organisation scoping is written."""

    def for_organisation(self, organisation: Organisation | int):
        return self.filter(organisation=organisation)

    def for_user(self, user):
        """Rows of the organisations the user holds a staff role in (none for anyone else)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(organisation__staff_roles__user=user).distinct()


class TenantManager(models.Manager.from_queryset(OrganisationQuerySet)):
    pass
