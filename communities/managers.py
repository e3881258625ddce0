from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.contrib.auth.base_user import BaseUserManager
from django.db import models

from config.sql import PreparedQuery

if TYPE_CHECKING:
    from communities.models import Organisation, User


# A user already read in this request (with its session, config.sessions) that get(pk=…)
# returns instead of reading it again, when the keys agree.
preloaded_user: ContextVar[User | None] = ContextVar("preloaded_user", default=None)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def __init__(self) -> None:
        super().__init__()
        self._by_pk: PreparedQuery | None = None

    def get(self, *args, **kwargs):
        """`get(pk=…)` by one integer key runs a query compiled once per process, or none
        when this request has read that user already (`preloaded_user`).

        Every signed-in request loads its user this way (ModelBackend.get_user); through
        the ORM that lookup cost more to compile than to run. Anything else, and the
        historical models of migrations, go through the ORM as usual.
        """
        if args or self._db is not None or self.model.__module__ == "__fake__":
            return super().get(*args, **kwargs)
        if len(kwargs) != 1 or not ({"pk", "id"} & kwargs.keys()):
            return super().get(*args, **kwargs)
        (value,) = kwargs.values()
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return super().get(*args, **kwargs)
        if isinstance(value, bool) or str(pk) != str(value).strip():
            return super().get(*args, **kwargs)
        preloaded = preloaded_user.get()
        if preloaded is not None and preloaded.pk == pk and type(preloaded) is self.model:
            return preloaded
        if self._by_pk is None:
            self._by_pk = PreparedQuery(lambda pk: self.model._base_manager.filter(pk=pk), ("int",))
        user = self._by_pk.first(pk)
        if user is None:
            raise self.model.DoesNotExist(
                f"{self.model._meta.object_name} matching query does not exist."
            )
        return user

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
