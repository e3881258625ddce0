"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py.

ACCESS: staff page route name (without "communities:"-style namespace as the tests expect)
-> roles; OBJECT_FOR: route -> maker of the object its id names; POST_ONLY: routes visited
with POST; API_ACCESS: api route -> (roles, id maker or None); API_WRITE_ACCESS:
(method, api route) -> (roles, id maker or None, a valid body).
"""

ACCESS: dict = {}
OBJECT_FOR: dict = {}
POST_ONLY: set = set()
API_ACCESS: dict = {}
API_WRITE_ACCESS: dict = {}
