from django.urls import path  # noqa: F401

staff_urlpatterns: list = []
