from django.urls import path

from communities import views

staff_urlpatterns = [
    path("api-keys/", views.StaffApiTokenListView.as_view(), name="api_tokens"),
    path(
        "api-keys/<int:pk>/revoke/",
        views.StaffApiTokenRevokeView.as_view(),
        name="api_token_revoke",
    ),
]
