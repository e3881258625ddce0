"""feedback's API routes (cases and their timeline), included under /api/ by
config/api_router.py (namespace "api")."""

from django.urls import path

from feedback.api import settings, views

urlpatterns = [
    path("v1/<slug:org>/cases/", views.CaseListAPI.as_view(), name="case_list"),
    path("v1/<slug:org>/cases/<int:pk>/", views.CaseDetailAPI.as_view(), name="case_detail"),
    path("v1/<slug:org>/cases/<int:pk>/assign/", views.CaseAssignAPI.as_view(), name="case_assign"),
    path("v1/<slug:org>/cases/<int:pk>/status/", views.CaseStatusAPI.as_view(), name="case_status"),
    path("v1/<slug:org>/cases/<int:pk>/notes/", views.CaseNoteAPI.as_view(), name="case_note_add"),
    path("v1/<slug:org>/teams/", settings.TeamListAPI.as_view(), name="case_team_list"),
    path(
        "v1/<slug:org>/teams/<int:pk>/", settings.TeamDetailAPI.as_view(), name="case_team_detail"
    ),
    path(
        "v1/<slug:org>/root-causes/",
        settings.RootCauseListAPI.as_view(),
        name="case_root_cause_list",
    ),
    path(
        "v1/<slug:org>/root-causes/<int:pk>/",
        settings.RootCauseDetailAPI.as_view(),
        name="case_root_cause_detail",
    ),
    path(
        "v1/<slug:org>/sla-policies/",
        settings.SlaPolicyListAPI.as_view(),
        name="case_sla_policy_list",
    ),
    path(
        "v1/<slug:org>/sla-policies/<slug:priority>/",
        settings.SlaPolicyDetailAPI.as_view(),
        name="case_sla_policy_detail",
    ),
]
