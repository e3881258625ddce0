"""Member- and staff-facing flows that reach into other apps.

SPEC places the member portal, invitations and data export/erasure in communities,
but their data lives in every app (responses, points, cases) and their emails go
through the feedback outbox. `services.py` and `selectors.py` stay free of sibling
imports, as STYLE asks; the few flows that must compose the apps live here, and only
views, tasks and commands import this module.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communities.choices import ConsentPurpose, MemberStatus, Role
from communities.models import (
    AttributeDefinition,
    Community,
    EmailSuppression,
    Member,
    MemberImport,
    Organisation,
    StaffInvitation,
    StaffRole,
    User,
)
from communities.services import (
    STAFF_INVITATION_MAX_AGE,
    attributes_clean,
    consent_record,
    email_clean,
    member_confirm,
    member_confirm_token,
    member_create,
    member_invitation_token,
    member_lock,
    staff_invitation_create,
    staff_invitation_token,
)
from config.ratelimit import rate_limited
from feedback.choices import EmailStatus
from feedback.models import Case, OutboundEmail
from feedback.services import outbox_enqueue
from rewards.models import LedgerEntry, Redemption
from rewards.selectors import member_balance
from surveys.models import (
    InvitationBatch,
    Participation,
    Response,
    SurveyEvent,
    SurveyInvitation,
)
from surveys.services import unsubscribe_token

# --- member emails ---------------------------------------------------------------------------

# Re-sends of a confirmation or "already a member" email to one address per hour: enough
# for a lost email, too few to turn the join page into a way to flood someone's inbox.
JOIN_RESEND_PER_HOUR = 3


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _suppressed(*, member: Member) -> bool:
    """The address asked for no more email from this organisation, or left the community."""
    return (
        member.status in (MemberStatus.UNSUBSCRIBED, MemberStatus.ERASED)
        or EmailSuppression.objects.filter(
            organisation_id=member.organisation_id, email=member.email
        ).exists()
    )


def _member_email(*, member: Member, template: str, link: str, key: str) -> OutboundEmail:
    """One email to a member through the outbox, with the one-click unsubscribe link and
    the List-Unsubscribe headers every Chorus email carries (RFC 8058)."""
    community = member.community
    organisation = community.organisation
    unsubscribe = _absolute(
        reverse(
            "surveys:unsubscribe",
            args=[unsubscribe_token(organisation_id=organisation.pk, email=member.email)],
        )
    )
    return outbox_enqueue(
        organisation=organisation,
        to_email=member.email,
        template=template,
        language=member.locale or organisation.default_language,
        context={
            "organisation_name": organisation.name,
            "community_name": community.name,
            "name": member.name,
            "link": link,
            "portal_url": _absolute(
                reverse("surveys:community_home", args=[organisation.slug, community.slug])
            ),
            "sign_in_url": _absolute(reverse("account_request_login_code")),
            "unsubscribe_url": unsubscribe,
        },
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        idempotency_key=key,
    )


def member_confirmation_send(
    *, member: Member, rejoin: bool = False, marketing: bool = False
) -> OutboundEmail:
    """The double opt-in email. It goes even to an address that unsubscribed: the person
    has just asked to join, and this email is how they prove the address is theirs."""
    community = member.community
    link = _absolute(
        reverse(
            "community:confirm",
            args=[
                community.organisation.slug,
                community.slug,
                member_confirm_token(member=member, rejoin=rejoin, marketing=marketing),
            ],
        )
    )
    return _member_email(
        member=member,
        template="join_confirm",
        link=link,
        key=f"member-confirm:{member.pk}:{uuid.uuid4().hex}",
    )


def member_invitation_send(*, member: Member) -> OutboundEmail | None:
    """The invitation-to-join email, unless the address has asked for no more email."""
    if _suppressed(member=member):
        return None
    community = member.community
    link = _absolute(
        reverse(
            "community:invitation",
            args=[
                community.organisation.slug,
                community.slug,
                member_invitation_token(member=member),
            ],
        )
    )
    return _member_email(
        member=member,
        template="member_invitation",
        link=link,
        key=f"member-invitation:{member.pk}:{uuid.uuid4().hex}",
    )


# --- join, confirm, invitations --------------------------------------------------------------


@dataclass(frozen=True)
class JoinOutcome:
    """What a join did; the page shows the same "check your email" whatever it was, so a
    stranger learns nothing about who is a member. `sent` is for tests and logs."""

    member: Member
    sent: str  # "confirmation", "invitation", "already_member" or "" (rate-limited)


@transaction.atomic
def member_join(
    *,
    community: Community,
    email: str,
    name: str = "",
    locale: str = "",
    attributes: dict[str, Any] | None = None,
    terms_accepted: bool,
    marketing: bool = False,
    referral_code: str = "",
) -> JoinOutcome:
    """Someone asks to join an open community from its public page.

    A new address becomes a pending member with its consent recorded (terms at the
    current policy version, marketing only if ticked) and gets the double opt-in email.
    An address we know is never changed by a stranger's form: a pending member gets the
    confirmation again, an invited one their invitation, a current member a "you are
    already a member" email, and one who left a confirmation that records their consent
    only when they click it.
    """
    if not terms_accepted:
        raise ValidationError(
            {"consent": [_("Please accept the community terms and privacy policy to join.")]},
            code="consent_required",
        )
    if community.join_mode != "open":
        raise ValidationError(_("This community is by invitation only."), code="invite_only")
    email = email_clean(email)
    existing = Member.objects.filter(community=community, email=email).first()
    if existing is None:
        referrer = None
        if referral_code:
            referrer = (
                Member.objects.filter(community=community, referral_code=referral_code)
                .exclude(status=MemberStatus.ERASED)
                .first()
            )
        member = member_create(
            community=community,
            email=email,
            name=name,
            locale=locale,
            attributes=attributes or {},
            status=MemberStatus.PENDING,
            consent_channel="web",
            marketing=marketing,
            referred_by=referrer,
        )
        member_confirmation_send(member=member)
        return JoinOutcome(member=member, sent="confirmation")
    if rate_limited(
        scope="join-resend", key=f"{community.pk}:{email}", limit=JOIN_RESEND_PER_HOUR, window=3600
    ):
        return JoinOutcome(member=existing, sent="")
    if existing.status == MemberStatus.PENDING:
        member_confirmation_send(member=existing)
        return JoinOutcome(member=existing, sent="confirmation")
    if existing.status == MemberStatus.UNSUBSCRIBED:
        member_confirmation_send(member=existing, rejoin=True, marketing=marketing)
        return JoinOutcome(member=existing, sent="confirmation")
    if existing.status == MemberStatus.INVITED:
        return JoinOutcome(
            member=existing, sent="invitation" if member_invitation_send(member=existing) else ""
        )
    if _suppressed(member=existing):
        return JoinOutcome(member=existing, sent="")
    _member_email(
        member=existing,
        template="already_member",
        link=_absolute(reverse("account_request_login_code")),
        key=f"member-already:{existing.pk}:{uuid.uuid4().hex}",
    )
    return JoinOutcome(member=existing, sent="already_member")


@transaction.atomic
def member_confirmation_resend(*, member: Member) -> bool:
    """A new double opt-in link for a pending member whose link expired (rate-limited)."""
    if member.status != MemberStatus.PENDING:
        return False
    if rate_limited(
        scope="join-resend",
        key=f"{member.community_id}:{member.email}",
        limit=JOIN_RESEND_PER_HOUR,
        window=3600,
    ):
        return False
    member_confirmation_send(member=member)
    return True


@transaction.atomic
def member_invite(
    *,
    community: Community,
    email: str,
    name: str = "",
    locale: str = "",
    invited_by: User | None = None,
) -> Member:
    """Invite one person to join (invite-only communities, or staff inviting to an open one):
    an invited member and an email with their personal link. Their consent is recorded
    only when they accept on the page the link opens.

    An address that unsubscribed from the organisation's email is refused rather than
    silently never written to.
    """
    email = email_clean(email)
    if EmailSuppression.objects.filter(
        organisation_id=community.organisation_id, email=email
    ).exists():
        raise ValidationError(
            {"email": [_("This address asked us not to email it; it cannot be invited.")]},
            code="suppressed",
        )
    member = member_create(
        community=community,
        email=email,
        name=name,
        locale=locale,
        status=MemberStatus.INVITED,
    )
    member_invitation_send(member=member)
    return member


@transaction.atomic
def member_invitation_accept(
    *,
    member: Member,
    name: str,
    locale: str,
    attributes: dict[str, Any] | None = None,
    terms_accepted: bool,
    marketing: bool = False,
) -> Member:
    """An invited person accepts on their link's page: the link proved the address, so
    they are confirmed at once, with the consent they ticked recorded."""
    if not terms_accepted:
        raise ValidationError(
            {"consent": [_("Please accept the community terms and privacy policy to join.")]},
            code="consent_required",
        )
    member = member_lock(member_id=member.pk)
    if member.status != MemberStatus.INVITED:
        raise ValidationError(_("This invitation has already been used."), code="used")
    name = (name or "").strip()
    if len(name) > 200:
        raise ValidationError({"name": [_("Keep the name under 200 characters.")]})
    member.name = name or member.name
    member.locale = locale or member.locale
    member.attributes = attributes_clean(
        community=member.community, values=attributes or {}, current=member.attributes
    )
    member.save(update_fields=["name", "locale", "attributes", "updated_at"])
    consent_record(
        member=member, purpose=ConsentPurpose.COMMUNITY_TERMS, granted=True, channel="web"
    )
    if marketing:
        consent_record(member=member, purpose=ConsentPurpose.MARKETING, granted=True, channel="web")
    return member_confirm(member=member)


# --- the portal ------------------------------------------------------------------------------


def member_portal(*, member: Member, language: str) -> dict[str, Any]:
    """What the community home shows a signed-in member besides the surveys: points,
    recent activity and their referral link."""
    community = member.community
    participations = (
        Participation.objects.filter(member=member)
        .select_related("survey")
        .order_by("-completed_on")[:5]
    )
    ledger = LedgerEntry.objects.filter(member=member).order_by("-created_at", "-pk")[:8]
    return {
        "balance": member_balance(member=member),
        "answered": [
            (p.survey.title.get(language) or p.survey.title_text, p.completed_on)
            for p in participations
        ],
        "ledger": [
            {
                "points": abs(entry.points),
                "earned": entry.points > 0,
                "reason": entry.get_reason_display(),
                "created_at": entry.created_at,
            }
            for entry in ledger
        ],
        "referral_url": _absolute(
            reverse("community:join", args=[community.organisation.slug, community.slug])
            + f"?ref={member.referral_code}"
        )
        if member.referral_code and community.join_mode == "open"
        else "",
    }


# --- my data: export and erasure ------------------------------------------------------------


def _when(value) -> str | None:
    return value.isoformat() if value else None


def member_export(*, member: Member) -> dict[str, Any]:
    """Everything Chorus holds about a member, for them to download (GDPR art. 15/20,
    PDPA s. 30-31). Anonymous responses are not theirs to read back: nothing links them
    to the member, by design."""
    community = member.community
    organisation = member.organisation
    language = member.locale
    definitions = {d.key: d for d in AttributeDefinition.objects.filter(community=community)}
    responses = (
        Response.objects.filter(member=member, is_anonymous=False)
        .select_related("survey")
        .prefetch_related("answers__question", "answers__choices")
        .order_by("submitted_at")
    )
    invitations = (
        SurveyInvitation.objects.for_organisation(organisation)
        .filter(Q(member=member) | Q(email__iexact=member.email))
        .select_related("survey")
        .order_by("created_at")
    )
    cases = Case.objects.filter(response__member=member, response__is_anonymous=False).order_by(
        "created_at"
    )
    emails = (
        OutboundEmail.objects.filter(to_email__iexact=member.email)
        .filter(Q(organisation=organisation) | Q(organisation__isnull=True))
        .order_by("created_at")
    )
    return {
        "exported_at": timezone.now().isoformat(),
        "organisation": organisation.name,
        "community": community.name,
        "member": {
            "email": member.email,
            "name": member.name,
            "phone": member.phone,
            "language": member.locale,
            "location": member.location.name if member.location_id else None,
            "status": member.status,
            "joined_at": _when(member.joined_at),
            "confirmed_at": _when(member.confirmed_at),
            "invited_at": _when(member.invited_at),
            "last_active_at": _when(member.last_active_at),
            "referral_code": member.referral_code,
            "referred_by_a_member": member.referred_by_id is not None,
            "created_at": _when(member.created_at),
        },
        "attributes": {
            key: {
                "label": definitions[key].label.get(language) or definitions[key].label_text
                if key in definitions
                else key,
                "value": value,
            }
            for key, value in member.attributes.items()
        },
        "consents": [
            {
                "purpose": record.purpose,
                "granted": record.granted,
                "policy_version": record.policy_version,
                "channel": record.channel,
                "recorded_at": _when(record.recorded_at),
            }
            for record in member.consents.order_by("recorded_at", "pk")
        ],
        "responses": [
            {
                "survey": response.survey.title.get(response.language)
                or response.survey.title_text,
                "submitted_at": _when(response.submitted_at),
                "language": response.language,
                "consent_to_contact": response.consent_to_contact,
                "answers": [
                    {
                        "question": answer.question.text_for(response.language),
                        "type": answer.question_type,
                        "number": answer.number,
                        "choices": [c.label_for(response.language) for c in answer.choices.all()],
                        "text": answer.text,
                    }
                    for answer in response.answers.all()
                ],
            }
            for response in responses
        ],
        "participations": [
            {"survey": p.survey.title_text, "completed_on": p.completed_on.isoformat()}
            for p in Participation.objects.filter(member=member).select_related("survey")
        ],
        "points": {
            "balance": member_balance(member=member),
            "ledger": [
                {
                    "points": entry.points,
                    "reason": entry.reason,
                    "source": entry.source,
                    "created_at": _when(entry.created_at),
                }
                for entry in LedgerEntry.objects.filter(member=member).order_by("created_at")
            ],
        },
        "redemptions": [
            {
                "reward": redemption.reward.name,
                "points": redemption.points,
                "status": redemption.status,
                "requested_at": _when(redemption.created_at),
                "decided_at": _when(redemption.decided_at),
            }
            for redemption in Redemption.objects.filter(member=member)
            .select_related("reward")
            .order_by("created_at")
        ],
        # A case's public face: what happened with the member's feedback, and their reply.
        # Staff notes are internal working papers and stay out.
        "cases": [
            {
                "status": case.status,
                "opened_at": _when(case.created_at),
                "resolved_at": _when(case.resolved_at),
                "your_reply": case.reply_text,
            }
            for case in cases
        ],
        "survey_invitations": [
            {
                "survey": invitation.survey.title_text,
                "sent_at": _when(invitation.sent_at),
                "opened_at": _when(invitation.opened_at),
                "responded_at": _when(invitation.responded_at),
                "reminders": invitation.reminder_count,
                "external_reference": invitation.external_ref,
            }
            for invitation in invitations
        ],
        "emails": [
            {
                "subject": email.subject,
                "kind": email.template,
                "status": email.status,
                "created_at": _when(email.created_at),
                "sent_at": _when(email.sent_at),
            }
            for email in emails
        ],
    }


ERASED_PLACEHOLDER = "[erased]"


def _scrub(text: str, needles: list[str]) -> str:
    """`text` with every occurrence of the person's address and name replaced."""
    for needle in needles:
        text = re.sub(re.escape(needle), ERASED_PLACEHOLDER, text, flags=re.IGNORECASE)
    return text


@transaction.atomic
def member_erase(*, member: Member) -> Member:
    """Erase a member for good (GDPR art. 17, PDPA s. 33), in one transaction.

    What stays, and why:
    - Responses and their answers (text answers too: they are the feedback), made
      anonymous: no member, no invitation, no consent to contact, so nothing leads back
      and no follow-up can ever be sent for them.
    - The Member row as an erased marker with no personal data (a check constraint holds
      it to that): the points ledger, participations and redemptions are append-only
      accounting and stay against the marker.
    - ConsentRecords, against the marker: they prove what was consented to and when,
      which the organisation must be able to show; they hold no personal data.
    - Cases keep their workflow (status, assignee, dates, notes) with the person's
      address and name scrubbed from their text.
    - An EmailSuppression the person asked for earlier: the address alone, kept so that
      "never email me" still holds after erasure (the minimum needed to honour an
      objection; without it an integration could write to them again).
    What goes: the address and name everywhere else (survey invitations and events,
    staff send lists, import files), unsent email (cancelled) and the recipient, subject,
    body and headers of sent email, and the user account unless it is also staff or a
    member of another community, in which case it is only unlinked.
    """
    member = member_lock(member_id=member.pk)
    if member.status == MemberStatus.ERASED:
        return member
    organisation_id = member.organisation_id
    email, name = member.email, member.name
    needles = [n for n in (email, name) if n and len(n) >= 3]
    user = member.user
    keeps_account = user is not None and (
        user.is_staff
        or user.is_superuser
        or StaffRole.objects.filter(user=user).exists()
        or Member.objects.filter(user=user).exclude(pk=member.pk).exists()
    )

    mine = Q(member=member)
    if email:
        mine |= Q(invitation__email__iexact=email)
    response_ids = list(
        Response.objects.filter(organisation_id=organisation_id)
        .filter(mine | Q(invitation__member=member))
        .values_list("pk", flat=True)
    )
    Response.objects.filter(pk__in=response_ids).update(
        member=None, invitation=None, consent_to_contact=False, is_anonymous=True
    )

    # Invitations keep their delivery history against the marker; the address goes.
    invited = Q(member=member) | Q(email__iexact=email) if email else Q(member=member)
    SurveyInvitation.objects.filter(organisation_id=organisation_id).filter(invited).update(
        member=member, email="", name=""
    )
    if email:
        SurveyEvent.objects.filter(organisation_id=organisation_id, email__iexact=email).update(
            email="", name=""
        )
        batches = InvitationBatch.objects.annotate(listed=Cast("recipients", TextField())).filter(
            organisation_id=organisation_id, listed__icontains=email
        )
        for batch in batches:
            batch.recipients = [
                row for row in batch.recipients if not (row and str(row[0]).lower() == email)
            ]
            batch.save(update_fields=["recipients"])
        uploads = MemberImport.objects.annotate(listed=Cast("errors", TextField())).filter(
            Q(content__icontains=email) | Q(listed__icontains=email),
            community_id=member.community_id,
        )
        for upload in uploads:
            upload.content = "\n".join(
                line for line in upload.content.splitlines() if email not in line.lower()
            )
            upload.errors = [error for error in upload.errors if email not in str(error).lower()]
            upload.save(update_fields=["content", "errors"])

    cases = Q(response_id__in=response_ids)
    for needle in needles:
        cases |= Q(reply_text__icontains=needle) | Q(notes__icontains=needle)
        cases |= Q(resolution__icontains=needle)
    for case in Case.objects.filter(cases, organisation_id=organisation_id):
        case.reply_text = _scrub(case.reply_text, needles)
        case.notes = _scrub(case.notes, needles)
        case.resolution = _scrub(case.resolution, needles)
        case.save(update_fields=["reply_text", "notes", "resolution", "updated_at"])

    if email:
        # Account emails (no organisation) go with the account, not with one membership.
        sent_to = Q(organisation_id=organisation_id)
        if not keeps_account:
            sent_to |= Q(organisation__isnull=True)
        outbox = OutboundEmail.objects.filter(sent_to, to_email__iexact=email)
        outbox.exclude(status=EmailStatus.SENT).update(
            status=EmailStatus.FAILED, last_error="Cancelled: the recipient erased their data."
        )
        outbox.update(
            to_email="",
            subject=ERASED_PLACEHOLDER,
            body_text="",
            body_html="",
            context={},
            headers={},
        )

    member.email = member.name = member.phone = member.referral_code = ""
    member.attributes = {}
    member.user = None
    member.location = None
    member.referred_by = None
    member.status = MemberStatus.ERASED
    member.erased_at = timezone.now()
    member.save()

    if user is not None and not keeps_account:
        user.delete()
    return member


# --- staff invitations -------------------------------------------------------------------------

# Invitations one organisation may send an hour: a team grows by a few people at a time,
# and an account taken over should not become a way to mail thousands.
STAFF_INVITES_PER_HOUR = 30


def staff_invitation_send(
    *, organisation: Organisation, email: str, role: str, invited_by: User, actor_role: str
) -> StaffInvitation:
    """Invite someone to the organisation's staff and email them the signed accept link.

    Rate-limited per organisation (a ValidationError once over); the email leaves through
    the outbox after the invitation commits.
    """
    if rate_limited(
        scope="staff-invite", key=str(organisation.pk), limit=STAFF_INVITES_PER_HOUR, window=3600
    ):
        raise ValidationError(
            _("Too many invitations from this organisation in the last hour; try again later."),
            code="rate_limited",
        )
    with transaction.atomic():
        invitation = staff_invitation_create(
            organisation=organisation,
            email=email,
            role=role,
            invited_by=invited_by,
            actor_role=actor_role,
        )
        link = _absolute(
            reverse("staff_invitation_accept", args=[staff_invitation_token(invitation=invitation)])
        )
        language = invited_by.locale or organisation.default_language
        with translation.override(language):
            role_label = str(Role(role).label)
        outbox_enqueue(
            organisation=organisation,
            to_email=invitation.email,
            template="staff_invitation",
            language=language,
            context={
                "organisation_name": organisation.name,
                "inviter": invited_by.name or invited_by.email,
                "role": role_label,
                "link": link,
                "days": STAFF_INVITATION_MAX_AGE.days,
            },
            idempotency_key=f"staff-invitation:{invitation.pk}",
        )
    return invitation


# --- the staff member page -------------------------------------------------------------------

MEMBER_PAGE_LEDGER = 50


@dataclass
class MemberOverview:
    """What a staff member page shows of one member, read across the apps."""

    # {"survey", "when", "channel", "anonymous"}: answers given under the member's name,
    # and the surveys they took part in anonymously (the day only, nothing to follow).
    responses: list[dict[str, Any]]
    balance: int
    ledger: list[LedgerEntry]
    cases: list[Case]
    consents: list[Any]


def member_overview(*, organisation: Organisation, member: Member) -> MemberOverview:
    """A member's answers, points, cases and consent history, for staff of `organisation`.

    For a survey answered anonymously only the Participation is shown (the survey and
    the day): nothing here, and nothing on the page, leads from the member to that
    response.
    """
    if member.organisation_id != organisation.pk:
        raise Member.DoesNotExist
    identified = list(
        Response.objects.for_organisation(organisation)
        .filter(member=member, is_anonymous=False)
        .select_related("survey", "channel")
        .order_by("-submitted_at")
    )
    answered = {response.survey_id for response in identified}
    rows: list[dict[str, Any]] = [
        {
            "survey": response.survey,
            "when": response.submitted_at,
            "channel": response.channel.get_kind_display() if response.channel else "",
            "anonymous": False,
        }
        for response in identified
    ]
    for participation in (
        Participation.objects.for_organisation(organisation)
        .filter(member=member)
        .exclude(survey_id__in=answered)
        .select_related("survey")
    ):
        rows.append(
            {
                "survey": participation.survey,
                "when": participation.completed_on,
                "channel": "",
                "anonymous": True,
            }
        )
    rows.sort(key=lambda row: str(row["when"]), reverse=True)
    return MemberOverview(
        responses=rows,
        balance=member_balance(member=member),
        ledger=list(
            LedgerEntry.objects.for_organisation(organisation).filter(member=member)[
                :MEMBER_PAGE_LEDGER
            ]
        ),
        cases=list(
            Case.objects.for_organisation(organisation)
            .filter(response__member=member)
            .select_related("response__survey", "assignee")
        ),
        consents=list(member.consents.all()),
    )
