"""feedback's API routes (cases and their timeline), included under /api/ by
config/api_router.py (namespace "api")."""

urlpatterns: list = []
