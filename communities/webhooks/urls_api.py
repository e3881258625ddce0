"""Webhook endpoints' API routes, included under /api/ by config/api_router.py."""

from django.urls import path

from communities.webhooks import api

_W = "v1/<slug:org>/webhooks/"

urlpatterns = [
    path(f"{_W}endpoints/", api.WebhookEndpointListAPI.as_view(), name="webhook_endpoint_list"),
    path(
        f"{_W}endpoints/<int:pk>/",
        api.WebhookEndpointDetailAPI.as_view(),
        name="webhook_endpoint_detail",
    ),
    path(
        f"{_W}endpoints/<int:pk>/secret/",
        api.WebhookEndpointSecretAPI.as_view(),
        name="webhook_endpoint_secret",
    ),
    path(
        f"{_W}endpoints/<int:pk>/test/",
        api.WebhookEndpointTestAPI.as_view(),
        name="webhook_endpoint_test",
    ),
    path(
        f"{_W}endpoints/<int:pk>/deliveries/",
        api.WebhookDeliveryListAPI.as_view(),
        name="webhook_delivery_list",
    ),
    path(
        f"{_W}deliveries/<int:pk>/resend/",
        api.WebhookDeliveryResendAPI.as_view(),
        name="webhook_delivery_resend",
    ),
]
