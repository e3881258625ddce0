"""Webhook endpoints' API routes, included under /api/ by config/api_router.py."""

urlpatterns: list = []
