from django.urls import include, path

from bench.baseline import views

urlpatterns = [
    path("bench/bare/", views.bare, name="bench_bare"),
    path("bench/bare-template/", views.bare_template, name="bench_bare_template"),
    path("bench/minimal/", views.minimal, name="bench_minimal"),
    path("", include("config.urls")),
]
