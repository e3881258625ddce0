from django.urls import path

from insights.drill.views import StaffResponsesBehindView
from insights.text.views import StaffTextAnswersView

staff_urlpatterns = [
    path("insights/text/", StaffTextAnswersView.as_view(), name="insights_text"),
    path("insights/responses/", StaffResponsesBehindView.as_view(), name="insights_responses"),
]
