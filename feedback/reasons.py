"""Why a case was opened, kept as data and put into words in the reader's language.

A case stores each rule that matched as `{"code", "question", "value", "threshold"}`:
"NPS 0, at most 6" is `{"code": "nps", "question": 12, "value": 0, "threshold": 6}`. The
case list, the case page, the member page and the staff alert email each render it with
gettext in the language of whoever reads it, numbers formatted for that language.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _


class Reason(TypedDict):
    code: str
    # The question whose answer matched (None where no one answer did, or not known).
    question: int | None
    # The score, the sentiment polarity, or the chosen choice's id.
    value: float | int | None
    threshold: float | int | None


NPS, STARS, CSAT, SENTIMENT, CHOICE = "nps", "stars", "csat", "sentiment", "choice"
# What only an edited follow-up rule can give: a score in a range, a keyword in the text,
# the respondent's segment, their first answer, a detractor again.
SCORE_RANGE, KEYWORDS, SEGMENT = "score_range", "keywords", "segment"
FIRST_RESPONSE, REPEAT_DETRACTOR = "first_response", "repeat_detractor"
CODES = frozenset(
    {NPS, STARS, CSAT, SENTIMENT, CHOICE, SCORE_RANGE, KEYWORDS, SEGMENT, FIRST_RESPONSE}
    | {REPEAT_DETRACTOR}
)


def reason_make(
    *,
    code: str,
    question: int | None = None,
    value: float | int | None = None,
    threshold: float | int | None = None,
) -> Reason:
    """One reason as stored; whole numbers are kept as ints so "6.0" never shows."""

    def plain(number: float | int | None) -> float | int | None:
        if isinstance(number, float) and number.is_integer() and code != SENTIMENT:
            return int(number)
        return number

    return {
        "code": code,
        "question": question,
        "value": plain(value),
        "threshold": plain(threshold),
    }


def _number(value: Any, *, signed: bool = False) -> str:
    """A number as the active language writes it, kept left-to-right inside Hebrew text (a
    leading minus would otherwise be drawn after the digits)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value or "")
    if signed:
        text = number_format(number, decimal_pos=2)
        if number > 0:
            text = f"+{text}"
    elif number.is_integer():
        text = number_format(int(number))
    else:
        text = number_format(number)
    if translation.get_language_bidi():
        # LEFT-TO-RIGHT ISOLATE … POP DIRECTIONAL ISOLATE: works in HTML and plain text.
        text = f"\u2066{text}\u2069"
    return text


def reason_render(reason: dict) -> str:
    """One reason in the active language."""
    code = reason.get("code")
    if code == CHOICE:
        return _("Choice selected")
    if code == SENTIMENT:
        params = {
            "value": _number(reason.get("value"), signed=True),
            "threshold": _number(reason.get("threshold"), signed=True),
        }
        return _("Sentiment %(value)s below %(threshold)s") % params
    params = {"value": _number(reason.get("value")), "threshold": _number(reason.get("threshold"))}
    if code == NPS:
        return _("NPS %(value)s ≤ %(threshold)s") % params
    if code == CSAT:
        return _("CSAT %(value)s ≤ %(threshold)s") % params
    if code == STARS:
        return _("Stars %(value)s ≤ %(threshold)s") % params
    if code == SCORE_RANGE:
        return _("Score %(value)s in the rule's range") % params
    if code == KEYWORDS:
        return _("The answer contains a keyword")
    if code == SEGMENT:
        return _("The respondent is in a chosen segment")
    if code == FIRST_RESPONSE:
        return _("The respondent's first answer")
    if code == REPEAT_DETRACTOR:
        return _("A detractor again")
    # A code from a later release read by an older one: say something true.
    return _("A follow-up rule matched")


def reasons_render(reasons: list[dict] | None) -> str:
    """Every reason in the active language, in the order the rules matched."""
    return "; ".join(reason_render(r) for r in reasons or [] if isinstance(r, dict))


# The English text cases were stored as before reasons were data: "NPS 0 ≤ 6",
# "stars 1 ≤ 2", "CSAT 2 ≤ 2", "sentiment -0.80 below -0.30", "choice selected", joined
# with "; ". (The data migration 0003 keeps its own copy of this reader.)
_SCORE = re.compile(r"^(nps|csat|stars) (-?\d+(?:\.\d+)?) ≤ (-?\d+(?:\.\d+)?)$", re.I)
_SENTIMENT = re.compile(r"^sentiment ([+-]?\d+(?:\.\d+)?) below ([+-]?\d+(?:\.\d+)?)$", re.I)
_CHOICE = re.compile(r"^choice selected$", re.I)


def reasons_parse(text: str) -> list[Reason] | None:
    """Read the old English text back into reasons; None when any part is not one."""
    parts = [part.strip() for part in (text or "").split(";")]
    if not text or not all(parts):
        return None
    reasons: list[Reason] = []
    for part in parts:
        if match := _SCORE.match(part):
            code = match.group(1).lower()
            value, threshold = float(match.group(2)), float(match.group(3))
            reasons.append(reason_make(code=code, value=value, threshold=threshold))
        elif match := _SENTIMENT.match(part):
            value, threshold = float(match.group(1)), float(match.group(2))
            reasons.append(reason_make(code=SENTIMENT, value=value, threshold=threshold))
        elif _CHOICE.match(part):
            reasons.append(reason_make(code=CHOICE))
        else:
            return None
    return reasons
