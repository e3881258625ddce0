"""Every area's walk tables merged, for tests/communities (the role and cross-tenant walks)."""

from tests.rewards.walks import all as rewards
from tests.walks import exports, feedback, insights, surveys_api, webhooks

_AREAS = (exports, rewards, surveys_api, feedback, webhooks, insights)

ACCESS = {name: roles for area in _AREAS for name, roles in area.ACCESS.items()}
OBJECT_FOR = {name: make for area in _AREAS for name, make in area.OBJECT_FOR.items()}
POST_ONLY = {name for area in _AREAS for name in area.POST_ONLY}
API_ACCESS = {name: entry for area in _AREAS for name, entry in area.API_ACCESS.items()}
API_WRITE_ACCESS = {name: entry for area in _AREAS for name, entry in area.API_WRITE_ACCESS.items()}
