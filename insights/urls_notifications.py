from django.urls import path

from insights import views_notifications as views

staff_urlpatterns = [
    path(
        "notifications/",
        views.NotificationPreferencesView.as_view(),
        name="notification_preferences",
    ),
    path(
        "notifications/alerts/",
        views.ThresholdAlertListView.as_view(),
        name="notification_alert_list",
    ),
    path(
        "notifications/alerts/<int:pk>/",
        views.ThresholdAlertEditView.as_view(),
        name="notification_alert_edit",
    ),
    path(
        "notifications/alerts/<int:pk>/delete/",
        views.ThresholdAlertDeleteView.as_view(),
        name="notification_alert_delete",
    ),
    path(
        "notifications/report/",
        views.ReportScheduleView.as_view(),
        name="notification_report",
    ),
]
