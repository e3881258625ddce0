"""Every API route in one place. Staff endpoints live under /api/v1/<org>/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from surveys.api import views as surveys_api

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/<slug:org>/surveys/", surveys_api.SurveyListAPI.as_view(), name="survey_list"),
    path(
        "v1/<slug:org>/surveys/<int:pk>/",
        surveys_api.SurveyDetailAPI.as_view(),
        name="survey_detail",
    ),
    path("v1/<slug:org>/events/", surveys_api.EventReceiveAPI.as_view(), name="event_receive"),
    path(
        "v1/<slug:org>/surveys/<int:pk>/responses/",
        surveys_api.SurveyResponseListAPI.as_view(),
        name="survey_response_list",
    ),
]
