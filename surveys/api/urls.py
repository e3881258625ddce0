"""surveys' API routes, included under /api/ by config/api_router.py (namespace "api")."""

from django.urls import path

from surveys.api import views as surveys_api

urlpatterns = [
    path("v1/<slug:org>/surveys/", surveys_api.SurveyListAPI.as_view(), name="survey_list"),
    path(
        "v1/<slug:org>/surveys/<int:pk>/",
        surveys_api.SurveyDetailAPI.as_view(),
        name="survey_detail",
    ),
    path("v1/<slug:org>/events/", surveys_api.EventReceiveAPI.as_view(), name="event_receive"),
    path(
        "v1/<slug:org>/events/<int:pk>/", surveys_api.EventDetailAPI.as_view(), name="event_detail"
    ),
    path(
        "v1/<slug:org>/surveys/<int:pk>/responses/",
        surveys_api.SurveyResponseListAPI.as_view(),
        name="survey_response_list",
    ),
]
