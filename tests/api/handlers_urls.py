"""The project's URLs with the API's 404 and 500 handlers, and one API view that fails:
for tests of the answers no API view gives itself (tests/api/test_conventions_problems.py)."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from communities.api.base import ApiConventionsMixin
from config.urls import urlpatterns as project_urlpatterns

handler404 = "config.api_errors.page_not_found"
handler500 = "config.api_errors.server_error"


class BrokenAPI(ApiConventionsMixin, APIView):
    api_area = "surveys"
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request, *args, **kwargs):
        raise RuntimeError("a bug")


urlpatterns = [path("api/v1/<slug:org>/broken/", BrokenAPI.as_view()), *project_urlpatterns]
