from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from communities.urls import member_urlpatterns
from communities.urls import staff_urlpatterns as communities_staff
from communities.views.language import StaffLanguageView
from communities.views.team import StaffHomeView, StaffInvitationAcceptView
from config.docs_views import ApiDocsView
from config.views import StartView
from feedback.urls import public_urlpatterns as feedback_public
from feedback.urls import staff_urlpatterns as feedback_staff
from feedback.urls_inbound import public_urlpatterns as inbound_public
from feedback.urls_inbound import staff_urlpatterns as inbound_staff
from feedback.urls_rules import staff_urlpatterns as rules_staff
from insights.urls import staff_urlpatterns as insights_staff
from insights.urls_notifications import staff_urlpatterns as notifications_staff
from insights.urls_text import staff_urlpatterns as text_staff
from rewards.urls import member_urlpatterns as rewards_member
from rewards.urls import staff_urlpatterns as rewards_staff
from rewards.views.images import reward_image
from surveys.urls import staff_urlpatterns as surveys_staff

# Every staff page lives under /staff/<org>/ and resolves that organisation through
# StaffScopedMixin; tests walk this list to prove outsiders get 404.
staff_patterns = [
    *communities_staff,
    *rewards_staff,
    *surveys_staff,
    *feedback_staff,
    *rules_staff,
    *inbound_staff,
    *insights_staff,
    *text_staff,
    *notifications_staff,
]

# A request over Django's size limits gets a clear page, wherever the limit was hit.
handler400 = "config.errors.bad_request"
handler404 = "config.api_errors.page_not_found"
handler500 = "config.api_errors.server_error"

urlpatterns = [
    # First: every answer comes through these (s/, k/, i/, u/, c/), and Django tries the
    # patterns in order; none of the others can match their single-letter prefixes.
    path("", include("surveys.urls")),
    path("", StartView.as_view(), name="start"),
    # The outbox's admin pages moved with the model (feedback -> communities); old links
    # and bookmarks follow it.
    re_path(
        r"^admin/feedback/outboundemail/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/communities/outboundemail/%(rest)s", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Before the API's own routes, so no catch-all of theirs can shadow the page.
    path("api/docs/", ApiDocsView.as_view(), name="api_docs"),
    path("api/", include("config.api_router")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Uploaded reward images (MEDIA_URL): served by the app, only from storage's rewards/.
    path("media/rewards/<path:name>", reward_image, name="reward_image"),
    path("staff/", StaffHomeView.as_view(), name="staff_home"),
    # Outside /staff/<org>/, so no organisation slug can shadow it.
    path("staff-language/", StaffLanguageView.as_view(), name="staff_language"),
    # Before the staff include, so no organisation slug can shadow it.
    path(
        "staff-invitation/<str:signed>/",
        StaffInvitationAcceptView.as_view(),
        name="staff_invitation_accept",
    ),
    path("staff/<slug:org>/", include((staff_patterns, "staff"))),
    path("", include((inbound_public, "inbound"))),
    path("", include((feedback_public, "feedback_public"))),
    path("", include(([*member_urlpatterns, *rewards_member], "community"))),
]
