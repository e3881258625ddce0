from django.urls import path

from feedback import views
from feedback.views import teams
from feedback.views.recovery import RecoveryAnswerView

app_name = "feedback"

staff_urlpatterns = [
    path("cases/", views.StaffCaseListView.as_view(), name="case_list"),
    path("cases/bulk/", views.StaffCaseBulkView.as_view(), name="case_bulk"),
    path("cases/<int:pk>/", views.StaffCaseDetailView.as_view(), name="case_detail"),
    path("cases/<int:pk>/assign/", views.StaffCaseAssignView.as_view(), name="case_assign"),
    path("cases/<int:pk>/status/", views.StaffCaseStatusView.as_view(), name="case_status"),
    path("cases/<int:pk>/note/", views.StaffCaseNoteView.as_view(), name="case_note"),
    path("cases/<int:pk>/team/", views.StaffCaseTeamView.as_view(), name="case_team"),
    path("cases/<int:pk>/priority/", views.StaffCasePriorityView.as_view(), name="case_priority"),
    path("cases/<int:pk>/reply/", views.StaffCaseReplyView.as_view(), name="case_reply"),
    path("settings/teams/", teams.StaffTeamListView.as_view(), name="team_list"),
    path("settings/teams/<int:pk>/", teams.StaffTeamEditView.as_view(), name="team_edit"),
    path(
        "settings/teams/<int:pk>/delete/", teams.StaffTeamDeleteView.as_view(), name="team_delete"
    ),
    path("settings/root-causes/", teams.StaffRootCauseListView.as_view(), name="root_cause_list"),
    path(
        "settings/root-causes/<int:pk>/",
        teams.StaffRootCauseEditView.as_view(),
        name="root_cause_edit",
    ),
    path(
        "settings/service-levels/",
        teams.StaffServiceLevelsView.as_view(),
        name="service_levels",
    ),
]

# Pages a customer reaches from a case's email, outside /staff/ (namespace
# "feedback_public", included by config/urls.py).
public_urlpatterns = [
    path("recovery/<str:token>/", RecoveryAnswerView.as_view(), name="recovery_answer"),
]
