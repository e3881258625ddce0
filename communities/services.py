from django.db import transaction

from communities.choices import ConsentChannel, ConsentPurpose
from communities.models import ConsentRecord, Member


def member_lock(*, member_id: int) -> Member:
    """Take the member's row lock: the one place, so locks are always taken in one order.

    Balance checks and one-answer-per-member checks serialise on this row.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("member_lock must run inside a transaction")
    return Member.objects.select_for_update().get(pk=member_id)


def consent_record(
    *,
    member: Member,
    purpose: ConsentPurpose,
    granted: bool,
    channel: ConsentChannel,
    policy_version: int | None = None,
) -> ConsentRecord:
    """Append one consent decision; the history is never edited."""
    return ConsentRecord.objects.create(
        organisation_id=member.organisation_id,
        member=member,
        purpose=purpose,
        granted=granted,
        channel=channel,
        policy_version=policy_version or member.community.policy_version,
    )
