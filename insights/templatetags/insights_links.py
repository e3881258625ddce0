"""Template helpers for the pages that list responses: a link from a figure to the
responses behind it (built from the page's current filters), and keyword highlighting."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from insights.forms import LONGEST_DAYS
from insights.selectors import interval_start

register = template.Library()

# The survey results page's filter names, and the drill page's for the same filter.
RESULTS_PARAMS = {
    "since": "start",
    "until": "end",
    "channel": "channel",
    "location": "location",
    "language": "language",
}


def _period_end(start: dt.date, interval: str) -> dt.date:
    if interval == "month":
        following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return following - dt.timedelta(days=1)
    if interval == "week":
        return interval_start(start, "week") + dt.timedelta(days=6)
    return start


def current_filters(context: Any) -> dict[str, str]:
    """The drill page's query for the figures on this page: the dashboard's filters, or the
    survey results page's (its survey, and its own filter names translated)."""
    board = context.get("board")
    if board is not None:
        f = board.filters
        params = {"start": f.start.isoformat(), "end": f.end.isoformat()}
        for name in ("survey", "channel", "location", "language", "segment", "status", "tier"):
            # getattr: the who-answered filters are the dashboard's newest.
            if getattr(f, name, None) not in (None, ""):
                params[name] = str(getattr(f, name))
        return params
    survey = context.get("survey")
    request = context.get("request")
    params: dict[str, str] = {}
    if request is not None:
        for theirs, ours in RESULTS_PARAMS.items():
            if value := request.GET.get(theirs, "").strip():
                params[ours] = value
    if survey is not None:
        params["survey"] = str(survey.pk)
        if "start" not in params:
            # The results page counts every response ever; the drill page needs a range,
            # so it is the longest it allows (responses can be imported with older dates
            # than the survey's own, so its creation date is no bound).
            try:
                end = dt.date.fromisoformat(params.get("end", ""))
            except ValueError:
                # A malformed date is the drill page's form's to refuse, not this link's.
                end = timezone.localdate()
            params["start"] = (end - dt.timedelta(days=LONGEST_DAYS - 1)).isoformat()
    return params


@register.simple_tag(takes_context=True)
def responses_url(
    context: Any, dimension: str = "", value: Any = None, period: Any = None, **overrides: Any
) -> str:
    """The URL of the responses behind a figure: the page's filters, narrowed by
    `dimension=value` (a breakdown's row), `period` (a trend's interval) and any filter
    given by name (band="detractor")."""
    params = current_filters(context)
    if dimension and value not in (None, ""):
        params[dimension] = str(value)
    if isinstance(period, dt.date):
        board = context.get("board")
        interval = board.filters.bucket if board is not None else "day"
        end = _period_end(period, interval)
        if board is not None:
            end = min(end, board.filters.end)
            period = max(period, board.filters.start)
        params["start"], params["end"] = period.isoformat(), end.isoformat()
    for name, given in overrides.items():
        if given not in (None, ""):
            params[name] = str(given)
    organisation = context["organisation"]
    path = reverse("staff:insights_responses", args=[organisation.slug])
    return f"{path}?{urlencode(params)}"


@register.simple_tag(takes_context=True)
def text_answers_url(context: Any, **overrides: Any) -> str:
    """The URL of the text answers behind the page's figures (the filters the text answers
    page offers, taken from the page's current filters)."""
    params = {
        name: value
        for name, value in current_filters(context).items()
        if name in ("start", "end", "survey", "location", "language")
    }
    params.update({name: str(v) for name, v in overrides.items() if v not in (None, "")})
    path = reverse("staff:insights_text", args=[context["organisation"].slug])
    return f"{path}?{urlencode(params)}"


@register.filter
def highlight(text: str, keyword: str) -> SafeString:
    """The text escaped, with every case-insensitive match of the keyword in <mark>: the
    text is split on the raw keyword first and each piece escaped, so neither the answer
    nor the keyword can smuggle markup in."""
    text = str(text)
    if not keyword:
        return escape(text)
    pieces = re.split(f"({re.escape(str(keyword))})", text, flags=re.IGNORECASE)
    # re.split with one group alternates: outside, match, outside, match, …
    marked = [
        f"<mark>{escape(piece)}</mark>" if index % 2 else escape(piece)
        for index, piece in enumerate(pieces)
    ]
    return mark_safe("".join(marked))  # noqa: S308 — every piece was escaped above
