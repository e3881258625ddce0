"""Every API route in one place. Staff endpoints live under /api/v1/<org>/; each app keeps
its own routes in `<app>/api/urls.py`, included here so the names stay `api:<name>`."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include("surveys.api.urls")),
    path("", include("communities.api.urls")),
    path("", include("communities.webhooks.urls_api")),
    path("", include("rewards.api.urls")),
    path("", include("feedback.api.urls")),
]


def api_routes() -> list:
    """Every API route as a flat list (the per-app includes opened), for tests that walk them."""
    flat = []
    for entry in urlpatterns:
        flat.extend(getattr(entry, "url_patterns", [entry]))
    return flat
