"""The exports' staff routes, listed in surveys.urls.staff_urlpatterns (under /staff/<org>/)."""

from django.urls import path

from surveys.exports import views

export_urlpatterns = [
    path("surveys/<int:pk>/export/", views.StaffSurveyExportView.as_view(), name="survey_export"),
    path(
        "surveys/<int:pk>/export.csv",
        views.StaffSurveyExportCsvView.as_view(),
        name="survey_export_csv",
    ),
    path("exports/<int:pk>/", views.StaffExportJobView.as_view(), name="export_job"),
    path(
        "exports/<int:pk>/status/",
        views.StaffExportJobStatusView.as_view(),
        name="export_job_status",
    ),
    path(
        "exports/<int:pk>/download/",
        views.StaffExportJobDownloadView.as_view(),
        name="export_job_download",
    ),
]
