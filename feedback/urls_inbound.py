from django.urls import path

from feedback.inbound.views import ReplyView

# Pages a customer reaches from an email (a signed reply link), outside /staff/.
public_urlpatterns: list = [
    path("reply/<str:token>/", ReplyView.as_view(), name="reply"),
]
staff_urlpatterns: list = []
