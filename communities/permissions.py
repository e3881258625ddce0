"""Role rules as functions, so views, API permissions and templates ask the same question."""

from communities.choices import Role

MANAGE_ROLES = frozenset({Role.OWNER, Role.ADMIN})
READ_RESULTS_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})
WORK_CASES_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})


def can_manage(role: str | None) -> bool:
    return role in MANAGE_ROLES


def can_read_results(role: str | None) -> bool:
    return role in READ_RESULTS_ROLES


def can_work_cases(role: str | None) -> bool:
    return role in WORK_CASES_ROLES


def can_read_audit(role: str | None) -> bool:
    """Owners only: the log records what admins did, and owners are the ones who answer
    for it (PDPA/GDPR accountability)."""
    return role == Role.OWNER
