"""rewards' pages: staff pages (under /staff/<org>/, namespace "staff") and the member
portal's (under /c/<org>/<community>/, namespace "community"); each view module owns
its routes."""

from rewards.views import portal, staff_catalogue, staff_overview, staff_policy, staff_redemptions

staff_urlpatterns = [
    *staff_catalogue.urlpatterns,
    *staff_redemptions.urlpatterns,
    *staff_overview.urlpatterns,
    *staff_policy.urlpatterns,
]

member_urlpatterns = [*portal.urlpatterns]
