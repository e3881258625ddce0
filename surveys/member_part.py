"""surveys' part of a member (see communities.member_data): responses, participations,
personal survey invitations, events from other systems and staff send lists."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from communities.member_data import MemberData, MemberErasure
from communities.member_data import export_time as when
from communities.models import Member, Organisation
from surveys.models import InvitationBatch, Participation, Response, SurveyEvent, SurveyInvitation
from surveys.selectors import member_responses

PORTAL_ANSWERED = 5


def _export(member: Member) -> dict[str, Any]:
    # Anonymous responses are not theirs to read back: nothing links them to the member,
    # by design.
    responses = (
        Response.objects.filter(member=member, is_anonymous=False)
        .select_related("survey")
        .prefetch_related("answers__question", "answers__choices")
        .order_by("submitted_at")
    )
    invitations = (
        SurveyInvitation.objects.for_organisation(member.organisation_id)
        .filter(Q(member=member) | Q(email__iexact=member.email))
        .select_related("survey")
        .order_by("created_at")
    )
    return {
        "responses": [
            {
                "survey": response.survey.title.get(response.language)
                or response.survey.title_text,
                "submitted_at": when(response.submitted_at),
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
        "survey_invitations": [
            {
                "survey": invitation.survey.title_text,
                "sent_at": when(invitation.sent_at),
                "opened_at": when(invitation.opened_at),
                "responded_at": when(invitation.responded_at),
                "reminders": invitation.reminder_count,
                "external_reference": invitation.external_ref,
            }
            for invitation in invitations
        ],
    }


def _erase(erasure: MemberErasure) -> None:
    # Responses and their answers stay (text answers too: they are the feedback), made
    # anonymous: no member, no invitation, no consent to contact. Participations stay
    # against the erased marker.
    member, email, organisation_id = erasure.member, erasure.email, erasure.organisation_id
    Response.objects.filter(
        pk__in=list(member_responses(member=member, email=email).values_list("pk", flat=True))
    ).update(member=None, invitation=None, consent_to_contact=False, is_anonymous=True)

    # Invitations keep their delivery history against the marker; the address goes.
    invited = Q(member=member) | Q(email__iexact=email) if email else Q(member=member)
    SurveyInvitation.objects.filter(organisation_id=organisation_id).filter(invited).update(
        member=member, email="", name=""
    )
    if not email:
        return
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


def _portal(member: Member, language: str) -> dict[str, Any]:
    participations = (
        Participation.objects.filter(member=member)
        .select_related("survey")
        .order_by("-completed_on")[:PORTAL_ANSWERED]
    )
    return {
        "answered": [
            (p.survey.title.get(language) or p.survey.title_text, p.completed_on)
            for p in participations
        ]
    }


def _staff_overview(organisation: Organisation, member: Member) -> dict[str, Any]:
    """Answers given under the member's name, and the surveys they took part in
    anonymously: for those only the Participation (the survey and the day) is shown, and
    nothing leads from the member to that response."""
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
    return {"responses": rows}


PART = MemberData(
    app_label="surveys",
    models=(
        "surveys.Response",
        "surveys.Participation",
        "surveys.SurveyInvitation",
        "surveys.SurveyEvent",
        "surveys.InvitationBatch",
    ),
    export=_export,
    erase=_erase,
    portal=_portal,
    staff_overview=_staff_overview,
)
