"""Pages of the communities app, by area: member_pages (the public member side), team
(staff home, organisations, team), communities (community pages and attributes), members,
imports, segments and api_tokens.

The survey pages reuse the member pages' branding and re-consent gate and the staff
scoping base from here; within communities, import from the defining module.
"""

from communities.scoping import StaffScopedMixin
from communities.views.member_pages import community_brand, reconsent_page

__all__ = ["StaffScopedMixin", "community_brand", "reconsent_page"]
