"""Every area's walk tables merged, for tests/communities (the role and cross-tenant walks)."""

from tests.rewards.walks import all as rewards
from tests.walks import (
    cases_workflow,
    exports,
    feedback,
    inbound,
    insights,
    insights_text,
    notifications,
    rules,
    surveys_api,
    webhooks,
)

_AREAS = (
    exports,
    rewards,
    surveys_api,
    feedback,
    webhooks,
    insights,
    rules,
    cases_workflow,
    inbound,
    notifications,
    insights_text,
)

ACCESS = {name: roles for area in _AREAS for name, roles in area.ACCESS.items()}
OBJECT_FOR = {name: make for area in _AREAS for name, make in area.OBJECT_FOR.items()}
POST_ONLY = {name for area in _AREAS for name in area.POST_ONLY}
API_ACCESS = {name: entry for area in _AREAS for name, entry in area.API_ACCESS.items()}
API_WRITE_ACCESS = {name: entry for area in _AREAS for name, entry in area.API_WRITE_ACCESS.items()}
