from django.urls import path

from feedback import views

app_name = "feedback"

staff_urlpatterns = [
    path("cases/", views.StaffCaseListView.as_view(), name="case_list"),
    path("cases/<int:pk>/", views.StaffCaseDetailView.as_view(), name="case_detail"),
]
