from django.urls import path  # noqa: F401

# Pages a customer reaches from an email (a signed reply link), outside /staff/.
public_urlpatterns: list = []
staff_urlpatterns: list = []
