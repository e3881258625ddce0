from django.urls import path

from insights import views

staff_urlpatterns = [
    path("insights/", views.StaffInsightsDashboardView.as_view(), name="insights_dashboard"),
]
