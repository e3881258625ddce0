"""Writing one response and its answers: shared by the submit path and the pool release."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from communities.models import Location, Member
from surveys.models import Answer, Channel, Response, Survey, SurveyInvitation
from surveys.reactions import StoredResponse


def response_write(
    *,
    survey: Survey,
    clean: dict[int, dict[str, Any]],
    question_types: dict[int, str],
    idempotency_key: str,
    language: str,
    member: Member | None,
    invitation: SurveyInvitation | None,
    channel: Channel | None,
    location: Location | None,
    anonymous: bool,
    consent_to_contact: bool,
    submitted_at: datetime,
    stored_at: datetime,
    pooled: bool = False,
) -> StoredResponse:
    """INSERT the response, its answers and chosen choices (the caller's transaction).

    Raises IntegrityError when the survey already has a response with this key.
    """
    response = Response(
        organisation_id=survey.organisation_id,
        survey=survey,
        channel=channel,
        member=member,
        invitation=invitation,
        location=location,
        language=language,
        submitted_at=submitted_at,
        submitted_on=timezone.localdate(submitted_at),
        is_anonymous=anonymous,
        consent_to_contact=consent_to_contact,
        idempotency_key=idempotency_key,
    )
    response.save()
    answers = Answer.objects.bulk_create(
        Answer(
            organisation_id=survey.organisation_id,
            response=response,
            question_id=qid,
            question_type=question_types[qid],
            number=value.get("number"),
            text=value.get("text", ""),
        )
        for qid, value in clean.items()
    )
    through = [
        Answer.choices.through(answer_id=a.pk, choice_id=cid)
        for a in answers
        for cid in clean[a.question_id].get("choice_ids", ())
    ]
    if through:
        Answer.choices.through.objects.bulk_create(through)
    return StoredResponse(
        response=response,
        answers=answers,
        choice_ids={cid for v in clean.values() for cid in v.get("choice_ids", ())},
        submitted_at=stored_at,
        pooled=pooled,
    )
