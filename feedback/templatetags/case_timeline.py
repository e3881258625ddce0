"""`{{ event|case_event_text }}`, `|case_event_actor`, `|case_event_body`: a timeline
event (data) in the language being rendered (see feedback.timeline)."""

from __future__ import annotations

from django import template

from feedback import timeline
from feedback.models import CaseEvent

register = template.Library()


@register.filter
def case_event_text(event: CaseEvent) -> str:
    return timeline.case_event_text(event)


@register.filter
def case_event_actor(event: CaseEvent) -> str:
    return timeline.case_event_actor(event)


@register.filter
def case_event_body(event: CaseEvent) -> str:
    return timeline.case_event_body(event)
