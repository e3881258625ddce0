"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py (see
tests/walks/feedback.py for the shape of each table)."""

ACCESS: dict = {}
OBJECT_FOR: dict = {}
POST_ONLY: set = set()
API_ACCESS: dict = {}
API_WRITE_ACCESS: dict = {}
