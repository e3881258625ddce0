"""A case's timeline put into words, in the language of whoever reads it.

Events are stored as data (feedback.models.CaseEvent: a kind and its parameters), never as
sentences, so the staff page, the API and any later reader each say them in their own
language. The words here are composed by the program; what people wrote (a note, a
resolution) is shown beside them as it was written.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from feedback.choices import CASE_DONE_STATUSES, CaseEventKind, CasePriority, CaseStatus, SlaBreach
from feedback.models import CaseEvent
from feedback.reasons import reasons_render


def _priority(value: str | None) -> str:
    try:
        return str(CasePriority(value).label)
    except ValueError:
        return str(value or "")


def _status(value: str | None) -> str:
    try:
        return str(CaseStatus(value).label)
    except ValueError:
        return str(value or "")


def case_event_text(event: CaseEvent) -> str:
    """What happened, in the active language: "Assigned to Kim", "Status changed from Open
    to Resolved"."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind == CaseEventKind.OPENED:
        reasons = reasons_render(data.get("reasons"))
        priority = data.get("priority")
        if priority == CasePriority.HIGH:
            return _("Case opened with high priority: %(reasons)s") % {"reasons": reasons}
        return _("Case opened: %(reasons)s") % {"reasons": reasons} if reasons else _("Case opened")
    if event.kind == CaseEventKind.ASSIGNED and "team" in data:
        if data.get("team") is None:
            return _("Taken off the team %(name)s") % {
                "name": data.get("previous_team_name") or "?"
            }
        return _("Moved to the team %(name)s") % {"name": data.get("team_name") or "?"}
    if event.kind == CaseEventKind.ASSIGNED:
        if data.get("assignee") is None:
            return _("Unassigned")
        return _("Assigned to %(name)s") % {"name": data.get("assignee_name") or "?"}
    if event.kind == CaseEventKind.STATUS_CHANGED:
        params = {"from": _status(data.get("from")), "to": _status(data.get("to"))}
        if data.get("to") == CaseStatus.RESOLVED:
            if data.get("root_cause_name"):
                return _("Resolved (was %(from)s), root cause: %(cause)s") % {
                    **params,
                    "cause": data["root_cause_name"],
                }
            return _("Resolved (was %(from)s)") % params
        if data.get("to") == CaseStatus.CLOSED:
            return _("Closed")
        if data.get("from") in CASE_DONE_STATUSES:
            if data.get("recovery"):
                return _("Reopened: the customer said the problem is not fixed")
            return _("Reopened")
        return _("Status changed from %(from)s to %(to)s") % params
    if event.kind == CaseEventKind.NOTE:
        return _("Note added")
    if event.kind == CaseEventKind.EMAIL_SENT and data.get("reply"):
        return _("Reply emailed to the respondent")
    if event.kind == CaseEventKind.EMAIL_SENT:
        return _("Follow-up email sent to the respondent")
    if event.kind == CaseEventKind.REPLY_RECEIVED:
        refused = data.get("attachments_refused") or []
        if refused:
            return ngettext(
                "The respondent replied (%(count)s attachment refused)",
                "The respondent replied (%(count)s attachments refused)",
                len(refused),
            ) % {"count": len(refused)}
        return _("The respondent replied")
    if event.kind == CaseEventKind.ESCALATED:
        names = ", ".join(p.get("name", "?") for p in data.get("to") or [] if isinstance(p, dict))
        if data.get("breach") == SlaBreach.FIRST_RESPONSE:
            return _("First response target missed; escalated to %(names)s") % {
                "names": names or "—"
            }
        return _("Resolution target missed; escalated to %(names)s") % {"names": names or "—"}
    if event.kind == CaseEventKind.RECOVERY_SENT:
        return _("“Did we fix it?” survey sent to the respondent")
    if event.kind == CaseEventKind.RECOVERY_ANSWERED:
        return _("The respondent answered “Did we fix it?”: %(score)s of 5") % {
            "score": data.get("score", "?")
        }
    if event.kind == CaseEventKind.PRIORITY_CHANGED:
        return _("Priority changed from %(from)s to %(to)s; due times recomputed") % {
            "from": _priority(data.get("from")),
            "to": _priority(data.get("to")),
        }
    # A kind from a later release read by an older one: say something true.
    return _("The case changed")


def case_event_body(event: CaseEvent) -> str:
    """What a person wrote with the event (a note, a resolution), as written; else ""."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind == CaseEventKind.NOTE:
        return str(data.get("body") or "")
    if event.kind == CaseEventKind.STATUS_CHANGED:
        return str(data.get("resolution") or "")
    if event.kind in (CaseEventKind.EMAIL_SENT, CaseEventKind.REPLY_RECEIVED):
        return str(data.get("body") or "")
    return ""


def case_event_body_html(event: CaseEvent) -> SafeString:
    """The body as HTML: escaped, its line breaks kept, and the staff a note @mentioned
    (as recorded when it was written) marked."""
    body = case_event_body(event)
    data = event.data if isinstance(event.data, dict) else {}
    texts = sorted(
        {m["text"] for m in data.get("mentions") or [] if isinstance(m, dict) and m.get("text")},
        key=len,
        reverse=True,
    )
    if not body:
        return mark_safe("")
    if not texts:
        return mark_safe(linebreaks(body, autoescape=True))
    pattern = re.compile("(" + "|".join(re.escape(t) for t in texts) + ")")
    parts = [
        f'<mark class="mention">{escape(part)}</mark>' if index % 2 else escape(part)
        for index, part in enumerate(pattern.split(body))
    ]
    # The marked pieces are escaped above; linebreaks must not escape them again.
    return mark_safe(linebreaks("".join(parts), autoescape=False))


def _span(seconds: float) -> tuple[int, str]:
    """A duration as one rounded unit: minutes under an hour, hours under two days, days."""
    minutes = max(1, int(seconds // 60))
    if minutes < 60:
        return minutes, "min"
    hours = minutes // 60
    if hours < 48:
        return hours, "h"
    return hours // 24, "d"


def case_due_text(*, due_at: datetime | None, status: str, now: datetime) -> tuple[str, bool]:
    """The time left on a case in words, and whether it is overdue: "due in 3 h", "overdue
    2 d"; ("", False) for a resolved or closed case or one with no due time."""
    if due_at is None or status in CASE_DONE_STATUSES:
        return "", False
    seconds = (due_at - now).total_seconds()
    count, unit = _span(abs(seconds))
    # Only the one phrase shown is translated: the inbox asks this for every row.
    if seconds >= 0:
        if unit == "min":
            return ngettext("due in %(n)d min", "due in %(n)d min", count) % {"n": count}, False
        if unit == "h":
            return ngettext("due in %(n)d h", "due in %(n)d h", count) % {"n": count}, False
        return ngettext("due in %(n)d d", "due in %(n)d d", count) % {"n": count}, False
    if unit == "min":
        return ngettext("overdue %(n)d min", "overdue %(n)d min", count) % {"n": count}, True
    if unit == "h":
        return ngettext("overdue %(n)d h", "overdue %(n)d h", count) % {"n": count}, True
    return ngettext("overdue %(n)d d", "overdue %(n)d d", count) % {"n": count}, True


def case_event_actor(event: CaseEvent) -> str:
    """Who did it, in the active language: the staff member, the API key, or Chorus itself
    (the follow-up rules opened the case)."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.actor_id is not None and event.actor is not None:
        return event.actor.name or event.actor.email
    if data.get("api_key"):
        return _("API key “%(name)s”") % {"name": data["api_key"]}
    if event.kind == CaseEventKind.OPENED:
        return _("Follow-up rules")
    # Chorus's own moves: an escalation, a recovery answer, a customer's reply reopening.
    if event.kind in (CaseEventKind.ESCALATED, CaseEventKind.RECOVERY_ANSWERED) or (
        data.get("recovery") or data.get("cause")
    ):
        return _("Chorus")
    return _("Someone no longer on the team")
