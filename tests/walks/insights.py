"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py: the insights
dashboard, read by owners, admins and analysts, as the survey results page is.

ACCESS: staff page route name -> roles; OBJECT_FOR: route -> maker of the object its id
names; POST_ONLY: routes visited with POST; API_ACCESS: api route -> (roles, id maker or
None); API_WRITE_ACCESS: (method, api route) -> (roles, id maker or None, a valid body).
"""

from communities.choices import Role

READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})

ACCESS: dict = {"insights_dashboard": READ}
OBJECT_FOR: dict = {}
POST_ONLY: set = set()
API_ACCESS: dict = {}
API_WRITE_ACCESS: dict = {}
