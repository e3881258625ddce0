"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py: the text
answers page and the responses behind a figure, read by owners, admins and analysts, as the
dashboard is (see tests/walks/feedback.py for the shape of each table)."""

from communities.choices import Role

READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})

ACCESS: dict = {"insights_text": READ, "insights_responses": READ}
OBJECT_FOR: dict = {}
POST_ONLY: set = set()
API_ACCESS: dict = {}
API_WRITE_ACCESS: dict = {}
