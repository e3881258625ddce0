"""The rewards areas' walk tables merged, for tests/communities."""

from tests.rewards.walks import api, catalogue, overview, policy, redemptions

_AREAS = (catalogue, redemptions, overview, policy)

ACCESS = {name: roles for area in _AREAS for name, roles in area.ACCESS.items()}
OBJECT_FOR = {name: make for area in _AREAS for name, make in area.OBJECT_FOR.items()}
POST_ONLY = {name for area in _AREAS for name in area.POST_ONLY}
API_ACCESS = dict(api.API_ACCESS)
API_WRITE_ACCESS = dict(api.API_WRITE_ACCESS)
