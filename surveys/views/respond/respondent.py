"""Who answers a respondent page, in which language, and what the page keeps for them:
the answer tokens of visitors, the personal invitation a browser opened, a score tapped
in an invitation email, and the slots of the kept blank page."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from communities.models import Member
from surveys.choices import FIXED_BOUNDS, QuestionType
from surveys.models import Question, Survey, SurveyInvitation

SUPPORTED_LANGUAGES = {code for code, _name in settings.LANGUAGES}
# What an answer key given out by this site looks like (a page still open from before
# included); any other is not one of ours.
ANSWER_KEY_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,64}")


def visitor_token_valid(token: str) -> bool:
    """Whether a visitor's answer cookie holds a token this site gives out."""
    return len(token) == 32 and token.isalnum()


def visitor_token_new() -> str:
    """A fresh random answer token for a page and, for a visitor, their cookie."""
    return secrets.token_hex(16)


# Stand for the per-request parts of the respondent page a process keeps (never real
# values: keys are 32 hex characters or a client's UUID, CSRF tokens alphanumeric, and
# nothing else on the page is written like this).
FORM_KEY_SLOT = "@@answer-key@@"
CSRF_SLOT = "@@csrf-token@@"
MEMBER_EMAIL_SLOT = "@@member-email@@"


@dataclass(frozen=True)
class Answering:
    """What the page says about the member answering, while it is rendered to be kept."""

    email: str


INVITATION_SESSION_KEY = "chorus_invitation_{}"
SCORE_SESSION_KEY = "chorus_invitation_score_{}"


def session_invitation(*, request: HttpRequest, survey: Survey) -> SurveyInvitation | None:
    """The personal invitation this browser opened for the survey, answered or not.

    The link's token moved into the session when it was opened, so it never sits in
    the address bar (or a Referer header) of the survey page.
    """
    invitation_id = request.session.get(INVITATION_SESSION_KEY.format(survey.public_id))
    if invitation_id is None:
        return None
    return (
        SurveyInvitation.objects.select_related(
            "member", "member__location", "channel", "channel__location"
        )
        .filter(pk=invitation_id, survey=survey)
        .first()
    )


def respondent_language(
    *,
    request: HttpRequest,
    survey: Survey,
    member: Member | None,
    invitation: SurveyInvitation | None = None,
) -> str:
    """The link's ?lang= wins, then the invitation's or member's, then the browser's."""
    for candidate in (
        request.GET.get("lang"),
        invitation.language if invitation else None,
        member.locale if member else None,
        getattr(request, "LANGUAGE_CODE", None),
    ):
        if candidate and candidate.split("-")[0] in SUPPORTED_LANGUAGES:
            return candidate.split("-")[0]
    return survey.languages[0] if survey.languages else settings.LANGUAGE_CODE


def invitation_score_remember(*, request: HttpRequest, survey: Survey) -> None:
    """Keep the score tapped in an invitation email for the survey page to fill in.

    A link names its question (`?q=<id>&score=<n>`), so the score lands on that question
    wherever it has moved; a link sent before links did (`?score=<n>`) is still taken.
    Opening the plain link forgets an earlier tap.
    """
    key = SCORE_SESSION_KEY.format(survey.public_id)
    try:
        score = int(request.GET["score"])
        question = int(request.GET["q"]) if "q" in request.GET else None
    except (KeyError, ValueError):
        request.session.pop(key, None)
        return
    low, high = FIXED_BOUNDS[QuestionType.NPS]
    if not low <= score <= high:
        request.session.pop(key, None)
        return
    request.session[key] = {"score": score, "question": question}


def score_question(questions: list[Question], question_id: int | None) -> Question | None:
    """The NPS question a tapped score belongs to.

    A link that names its question fills that one only (if it is still asked, and still an
    NPS). An older link carried only the score of the survey's first question, so it
    fills the first question while that is an NPS, or else the survey's only NPS question;
    with two or more elsewhere it fills nothing rather than guess.
    """
    nps = [q for q in questions if q.type == QuestionType.NPS]
    if question_id is not None:
        return next((q for q in nps if q.pk == question_id), None)
    if questions and questions[0].type == QuestionType.NPS:
        return questions[0]
    return nps[0] if len(nps) == 1 else None
