from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from django.http import Http404
from rest_framework import generics
from rest_framework.exceptions import NotAuthenticated, PermissionDenied

from communities.selectors import staff_role


class OrganisationScopedAPIView(generics.GenericAPIView):
    """The one base for staff API views: resolves `<org>` and the caller's role.

    An organisation the caller has no role in answers 404; a role that may not do this
    answers 403. Subclasses build on `scoped_queryset()`, never on a bare manager.
    """

    permission: Callable[[str | None], bool] | None = None
    model = None

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if not request.user.is_authenticated:
            raise NotAuthenticated
        role = staff_role(user=request.user, organisation_slug=kwargs.get("org", ""))
        if role is None:
            raise Http404
        self.organisation = role.organisation
        self.role = role.role
        if self.permission is not None and not self.permission(self.role):
            raise PermissionDenied

    def scoped_queryset(self) -> QuerySet:
        return self.model.objects.for_organisation(self.organisation)

    def get_queryset(self) -> QuerySet:
        return self.scoped_queryset()
