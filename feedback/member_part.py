"""feedback's part of a member (see communities.member_data): the cases opened on their
answers, with their replies and their timelines."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q

from communities.member_data import ERASED_PLACEHOLDER, MemberData, MemberErasure
from communities.member_data import export_time as when
from communities.models import Member, Organisation
from feedback.models import Case, CaseEvent
from surveys.selectors import member_responses


def _scrub(text: str, needles: list[str]) -> str:
    """`text` with every occurrence of the person's address and name replaced."""
    for needle in needles:
        text = re.sub(re.escape(needle), ERASED_PLACEHOLDER, text, flags=re.IGNORECASE)
    return text


def _export(member: Member) -> dict[str, Any]:
    cases = Case.objects.filter(response__member=member, response__is_anonymous=False)
    # A case's public face: what happened with the member's feedback, and their reply.
    # Staff notes are internal working papers and stay out.
    return {
        "cases": [
            {
                "status": case.status,
                "opened_at": when(case.created_at),
                "resolved_at": when(case.resolved_at),
                "your_reply": case.reply_text,
            }
            for case in cases.order_by("created_at")
        ]
    }


def _erase(erasure: MemberErasure) -> None:
    # Cases keep their workflow (status, assignee, dates, notes) with the person's address
    # and name scrubbed from their text. This runs before surveys' part unlinks the
    # responses, so the member's responses are still theirs here.
    responses = member_responses(member=erasure.member, email=erasure.email)
    cases = Q(response_id__in=list(responses.values_list("pk", flat=True)))
    for needle in erasure.needles:
        cases |= Q(reply_text__icontains=needle) | Q(notes__icontains=needle)
        cases |= Q(resolution__icontains=needle)
    for case in Case.objects.filter(cases, organisation_id=erasure.organisation_id):
        case.reply_text = _scrub(case.reply_text, erasure.needles)
        case.notes = _scrub(case.notes, erasure.needles)
        case.resolution = _scrub(case.resolution, erasure.needles)
        case.save(update_fields=["reply_text", "notes", "resolution", "updated_at"])
    _erase_from_timelines(erasure)


# The text people wrote into a timeline event's data (feedback.models.CaseEvent).
_TIMELINE_TEXT = ("body", "resolution")


def _erase_from_timelines(erasure: MemberErasure) -> None:
    """The person's address and name scrubbed from notes and resolutions in any case's
    timeline of the organisation (staff may have written them about another case too).
    Events are append-only, so this is an UPDATE of the data alone: the event stays."""
    mentions = Q()
    for needle in erasure.needles:
        for key in _TIMELINE_TEXT:
            mentions |= Q(**{f"data__{key}__icontains": needle})
    if not mentions:
        return
    events = CaseEvent.objects.for_organisation(erasure.organisation_id).filter(mentions)
    for pk, data in list(events.values_list("pk", "data")):
        scrubbed = {
            key: _scrub(value, erasure.needles)
            if key in _TIMELINE_TEXT and isinstance(value, str)
            else value
            for key, value in data.items()
        }
        if scrubbed != data:
            CaseEvent.objects.filter(pk=pk).update(data=scrubbed)


def _staff_overview(organisation: Organisation, member: Member) -> dict[str, Any]:
    return {
        "cases": list(
            Case.objects.for_organisation(organisation)
            .filter(response__member=member)
            .select_related("response__survey", "assignee")
        )
    }


PART = MemberData(
    app_label="feedback",
    models=("feedback.Case", "feedback.CaseEvent"),
    export=_export,
    erase=_erase,
    staff_overview=_staff_overview,
)
