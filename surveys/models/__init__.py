"""The surveys app's models, by area; every model is importable from here.

surveys    Survey, Question, Choice
channels   Channel, SurveyInvitation, InvitationBatch, SurveyEvent
responses  Response, Answer, Participation
pool       PooledAnswer (anonymous answers from known respondents, before release)
exports    ExportJob (response exports a worker writes to a file)
"""

from surveys.models.channels import Channel, InvitationBatch, SurveyEvent, SurveyInvitation
from surveys.models.exports import ExportFormat, ExportJob, ExportStatus
from surveys.models.pool import PooledAnswer
from surveys.models.responses import (
    SHORT_TEXT_MAX_LENGTH,
    TEXT_ANSWER_MAX_LENGTH,
    Answer,
    Participation,
    Response,
)
from surveys.models.surveys import Choice, Question, Survey, translated

# Field defaults that migration 0001 names by their old path, surveys.models.<name>.
from surveys.models.channels import _invitation_token as _invitation_token  # isort: skip
from surveys.models.surveys import _public_token as _public_token  # isort: skip

__all__ = [
    "SHORT_TEXT_MAX_LENGTH",
    "TEXT_ANSWER_MAX_LENGTH",
    "Answer",
    "Channel",
    "Choice",
    "ExportFormat",
    "ExportJob",
    "ExportStatus",
    "InvitationBatch",
    "Participation",
    "PooledAnswer",
    "Question",
    "Response",
    "Survey",
    "SurveyEvent",
    "SurveyInvitation",
    "translated",
]
