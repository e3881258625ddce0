"""The member's rewards pages (being built: the routes are named so emails can link)."""

from django.http import Http404
from django.urls import path


def _pending(request, **kwargs):
    raise Http404


_C = "c/<slug:org>/<slug:community>/"
urlpatterns: list = [
    path(f"{_C}rewards/", _pending, name="rewards"),
    path(f"{_C}rewards/<int:pk>/redeem/", _pending, name="reward_redeem"),
    path(f"{_C}rewards/redemptions/", _pending, name="redemptions"),
    path(f"{_C}rewards/redemptions/<int:pk>/cancel/", _pending, name="redemption_cancel"),
    path(f"{_C}rewards/points/", _pending, name="points_history"),
]
