"""The per-case reply address a follow-up or case email carries.

Placeholder interface for the inbound-mail work: callers (the follow-up email, a reply
from the case page) add `reply_headers(case=...)` to their outbox headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedback.models import Case


def reply_headers(*, case: Case) -> dict[str, str]:
    """Headers that route a customer's reply back to `case` (empty when not configured)."""
    return {}
