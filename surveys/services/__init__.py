"""Writes for surveys, one module per area.

responses    answering: checking answers, response_submit
builder      staff building surveys and questions
authoring    the same through the API, audited
invitations  personal email links, invitation batches and reminders
events       surveys triggered by another system's events
kiosks       kiosk devices and their answers

Code in this app imports from the module that defines a name. The names below are the
ones other apps, tests and benchmarks import from ``surveys.services``. Patch a name
(in a test) where it is defined: patching it here changes nothing that calls it.
"""

from surveys.services.answers import condition_holds
from surveys.services.builder import (
    question_add,
    question_delete,
    questions_reorder,
    survey_create,
    survey_duplicate,
    survey_publish,
)
from surveys.services.events import event_process, events_sweep
from surveys.services.invitations import (
    invitation_batch_create,
    invitation_batch_send,
    invitation_link_token,
    reminders_send,
)
from surveys.services.kiosks import kiosk_register, kiosk_revoke
from surveys.services.responses import AlreadyAnswered, response_submit

__all__ = [
    "AlreadyAnswered",
    "condition_holds",
    "event_process",
    "events_sweep",
    "invitation_batch_create",
    "invitation_batch_send",
    "invitation_link_token",
    "kiosk_register",
    "kiosk_revoke",
    "question_add",
    "question_delete",
    "questions_reorder",
    "reminders_send",
    "response_submit",
    "survey_create",
    "survey_duplicate",
    "survey_publish",
]
