"""Staff URLs of this rewards area for the walks in tests/communities: which roles may
use each (ACCESS), how to make the object an id names (OBJECT_FOR), which take only POST."""

from communities.choices import Role

READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})

ACCESS: dict = {"rewards_overview": READ}
OBJECT_FOR: dict = {}
POST_ONLY: set = set()
