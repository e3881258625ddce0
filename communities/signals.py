"""Moments in a member's life that apps above communities act on.

communities is the base layer and imports no app above it (the import-linter layers
contract), yet some of its moments earn something up there: a member who confirms earns
welcome points and their referrer a referral award, a member who completes their profile
earns profile points (rewards' earning rules). These signals are the one way the base lets
an upper layer act on its moments without knowing it. They are plumbing, not the story:
each receiver is connected in its app's AppConfig.ready and is one call to a named service
(rewards.services.earning), which is where a reader finds what a moment earns.

Each is sent with `send` inside the transaction that makes the change, so what a receiver
writes commits with it: should a receiver fail, the confirmation or profile save rolls back
too and can be retried, rather than commit with an award silently lost.
"""

from django.dispatch import Signal

# A pending or invited member (or one who left and asked to come back) became a confirmed
# member. Sent once per such change, with `member=` (locked, saved).
member_confirmed = Signal()

# A current member's profile has a name and every required attribute filled: sent when it
# is confirmed so, and each time they save it so. Receivers must be idempotent. `member=`.
member_profile_completed = Signal()
