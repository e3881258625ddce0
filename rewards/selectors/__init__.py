"""rewards' reads. Callers import from here; the modules are split by area."""

from rewards.selectors.ledger import member_balance

__all__ = ["member_balance"]
