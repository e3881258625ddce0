"""Respondent pages: a survey or poll by its public link (page), and who answers it
(respondent)."""

from surveys.views.respond.page import SurveyRespondView, SurveyThanksView
from surveys.views.respond.respondent import (
    INVITATION_SESSION_KEY,
    SCORE_SESSION_KEY,
    SUPPORTED_LANGUAGES,
    invitation_score_remember,
    visitor_token_new,
    visitor_token_valid,
)

__all__ = [
    "INVITATION_SESSION_KEY",
    "SCORE_SESSION_KEY",
    "SUPPORTED_LANGUAGES",
    "SurveyRespondView",
    "SurveyThanksView",
    "invitation_score_remember",
    "visitor_token_new",
    "visitor_token_valid",
]
