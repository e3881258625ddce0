"""Staff URLs of this rewards area for the walks in tests/communities: which roles may
use each (ACCESS), how to make the object an id names (OBJECT_FOR), which take only POST."""

ACCESS: dict = {}
OBJECT_FOR: dict = {}
POST_ONLY: set = set()
