"""The one door to staff pages and the staff API: which organisation, which role.

Both base classes resolve the organisation from the URL's `<org>` with the same resolver
and own `get_queryset`: it starts from the view model's rows of that organisation, lets the
view refine them in `scope_queryset(qs)`, and filters the result to the organisation once
more, so whatever a view builds there cannot reach another tenant's rows. A view class that
overrides `get_queryset` itself is refused when its module is imported (the way PostHog's
`TeamAndOrgViewSetMixin.__init_subclass__` guards its viewsets).

An organisation the caller holds no role in answers 404 (its existence is not revealed); a
role that may not do this answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions as api_exceptions
from rest_framework import generics
from rest_framework.permissions import SAFE_METHODS

from communities.api.base import ApiConventionsMixin
from communities.models import ApiToken, StaffRole
from communities.selectors import staff_roles_of

Permission = Callable[[str | None], bool]


def staff_role_resolve(*, request: Any, organisation_slug: str) -> StaffRole | None:
    """The caller's role in the organisation with this slug, or None for an outsider.

    All the user's roles are read in one query and kept on the request: the navbar's
    organisation switcher shows the same list.
    """
    roles = getattr(request, "staff_roles", None)
    if roles is None:
        roles = staff_roles_of(user=request.user)
        request.staff_roles = roles
    return next((r for r in roles if r.organisation.slug == organisation_slug), None)


class _Scoped:
    """What both bases share: the resolved organisation and role, and the scoped queryset."""

    permission: Permission | None = None
    model = None
    organisation = None
    role: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Also catches a generic view mixin listed before the base: SingleObjectMixin's
        # get_queryset would then win in the MRO and read every organisation's rows.
        if "get_queryset" in cls.__dict__ or cls.get_queryset is not _Scoped.get_queryset:
            raise TypeError(
                f"{cls.__module__}.{cls.__qualname__} replaces the scoped get_queryset; refine "
                "the organisation's rows in scope_queryset(qs) instead, and list the scoping "
                "base before Django's generic mixins."
            )

    def scoped_queryset(self) -> QuerySet:
        """The view model's rows of this organisation, unrefined."""
        return self.model.objects.for_organisation(self.organisation)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        """Refine the organisation's rows (filters, joins, prefetches); the hook for views."""
        return queryset

    def get_queryset(self) -> QuerySet:
        refined = self.scope_queryset(self.scoped_queryset())
        return refined.filter(organisation=self.organisation)

    def _role_check(self, permission: Permission | None) -> bool:
        return permission is None or permission(self.role)


class StaffScopedMixin(_Scoped, LoginRequiredMixin):
    """Base of every staff page under /staff/<org>/."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        role = staff_role_resolve(request=request, organisation_slug=kwargs.get("org", ""))
        if role is None:
            raise Http404("No such organisation")
        self.organisation = role.organisation
        self.role = role.role
        if not self._role_check(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(organisation=self.organisation, role=self.role)
        return context


class OrganisationScopedAPIView(ApiConventionsMixin, _Scoped, generics.GenericAPIView):
    """Base of every staff API view under /api/v1/<org>/: a staff session or, where a view
    lists ApiTokenAuthentication, an organisation API key (under its own organisation's URL
    only, and within its scopes). The conventions every API view shares (problems, rate
    limits, scopes, Idempotency-Key) come from ApiConventionsMixin."""

    # Asked instead of `permission` for POST, PATCH and the other unsafe methods, when set.
    write_permission: Permission | None = None

    def caller_resolve(self, request, **kwargs) -> None:
        if isinstance(request.auth, ApiToken):
            # Another organisation's key is told the URL does not exist, as a staff
            # outsider is: neither learns which organisation slugs are real.
            if request.auth.organisation.slug != kwargs.get("org"):
                raise Http404
            self.api_token = request.auth
            self.organisation = request.auth.organisation
            self.role = None
            return
        if not request.user or not request.user.is_authenticated:
            raise api_exceptions.NotAuthenticated
        role = staff_role_resolve(request=request, organisation_slug=kwargs.get("org", ""))
        if role is None:
            raise Http404
        self.organisation = role.organisation
        self.role = role.role
        permission = self.permission
        if self.write_permission is not None and request.method not in SAFE_METHODS:
            permission = self.write_permission
        if not self._role_check(permission):
            raise api_exceptions.PermissionDenied
