"""Whether a respondent may be written to (or named to other systems) about their answer."""

from __future__ import annotations

from communities.choices import ConsentPurpose, MemberStatus
from communities.models import EmailSuppression
from communities.selectors import member_consent_given
from surveys.models import Response


def followup_recipient(
    *, response: Response, consent_just_given: bool = False, suppression_checked_later: bool = False
) -> str | None:
    """The address a follow-up may go to, or None when we must not write.

    `consent_just_given`: the consent ticked on this answer was recorded in the caller's
    transaction, so it is the member's latest decision and is not read back.
    `suppression_checked_later`: the caller writes the email with the suppression list
    checked in its INSERT (outbox_enqueue's unless_suppressed), so it is not read here.
    """
    if response.is_anonymous or not response.consent_to_contact:
        return None
    recipient = None
    if response.member_id and response.member.email and not response.member.is_erased:
        # Consent given on the survey yields to a later withdrawal in the consent centre,
        # and to leaving the community.
        if response.member.status == MemberStatus.UNSUBSCRIBED or (
            not consent_just_given
            and member_consent_given(
                member=response.member, purpose=ConsentPurpose.CONTACT_FOLLOWUP
            )
            is False
        ):
            return None
        recipient = response.member.email
    elif response.invitation_id and response.invitation.email:
        recipient = response.invitation.email
    if (
        recipient
        and not suppression_checked_later
        and EmailSuppression.objects.filter(
            organisation_id=response.organisation_id, email=recipient.lower()
        ).exists()
    ):
        return None
    # Lower-cased, as every address the outbox writes to (the contact limit reads it so).
    return recipient.lower() if recipient else None
