from django.urls import path

from feedback import views

app_name = "feedback"

staff_urlpatterns = [
    path("cases/", views.StaffCaseListView.as_view(), name="case_list"),
    path("cases/bulk/", views.StaffCaseBulkView.as_view(), name="case_bulk"),
    path("cases/<int:pk>/", views.StaffCaseDetailView.as_view(), name="case_detail"),
    path("cases/<int:pk>/assign/", views.StaffCaseAssignView.as_view(), name="case_assign"),
    path("cases/<int:pk>/status/", views.StaffCaseStatusView.as_view(), name="case_status"),
    path("cases/<int:pk>/note/", views.StaffCaseNoteView.as_view(), name="case_note"),
]
