"""rewards' API routes for tests/communities/test_roles.py: read routes -> (roles, id
maker), and writes (method, route) -> (roles, id maker, a valid body)."""

API_ACCESS: dict = {}
API_WRITE_ACCESS: dict = {}
