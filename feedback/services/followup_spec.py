"""The shape of a follow-up rule (scope, conditions, actions) and the checks that keep it
sound: every id names a row of the rule's own organisation, every range is possible, and
every email template the staff write renders in the sandbox below.

Kept apart from the rule's writer (followup_admin) and its evaluator (followup_eval) so
that the form, the service and the "Test this rule" page all ask the same questions.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import FilterExpression, TextNode, VariableNode
from django.utils.translation import gettext as _

from communities.models import Location, Organisation, Segment, StaffRole
from communities.permissions import WORK_CASES_ROLES
from feedback.choices import (
    CasePriority,
    RuleAlert,
    RuleAssignment,
    RuleConditionKind,
    RuleHistory,
    RuleMatch,
    RuleScoreKind,
)
from feedback.models import Team
from surveys.choices import FIXED_BOUNDS, RATING_LIMITS, ChannelKind, QuestionType
from surveys.models import Choice, Question, Survey

MAX_CONDITIONS = 20
MAX_KEYWORDS = 50
KEYWORD_MAX_LENGTH = 100
SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 5_000
# A week: a follow-up later than that reads as a new conversation, not a follow-up.
DELAY_MAX_MINUTES = 7 * 24 * 60
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)

# What a staff-written email may say: these names and nothing else (no attribute lookups,
# no tags), so a template can neither reach into objects nor load anything.
TEMPLATE_VARIABLES = ("name", "organisation_name", "survey_title", "location_name", "case_id")
TEMPLATE_FILTERS = frozenset({"default", "upper", "lower", "capfirst", "title"})

SCORE_BOUNDS: dict[str, tuple[int, int]] = {
    RuleScoreKind.NPS: FIXED_BOUNDS[QuestionType.NPS],
    RuleScoreKind.CSAT: FIXED_BOUNDS[QuestionType.CSAT],
    RuleScoreKind.STARS: FIXED_BOUNDS[QuestionType.STAR],
    RuleScoreKind.RATING: RATING_LIMITS,
}
SCORE_QUESTION_TYPES: dict[str, frozenset[str]] = {
    RuleScoreKind.NPS: frozenset({QuestionType.NPS}),
    RuleScoreKind.CSAT: frozenset({QuestionType.CSAT}),
    RuleScoreKind.STARS: frozenset({QuestionType.STAR}),
    RuleScoreKind.RATING: frozenset({QuestionType.RATING}),
}

# Combining marks are dropped where they are accents (Latin, Greek, Cyrillic, Hebrew
# points): "Café" is "cafe", "שָׁלוֹם" is "שלום". In Thai and Japanese they are letters
# (a Thai vowel, a kana's voicing mark: か is not が), so there they stay. One regular
# expression rather than a loop over characters: this runs on every text answer a
# keyword rule looks at, inside the submit.
_ACCENTS = re.compile(
    "([\u0000-\u05ff])"
    "[\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)


def text_fold(text: str) -> str:
    """Text as keywords are compared: compatibility forms unified (full-width letters, half-
    width kana), case folded, accents dropped where they are accents."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return unicodedata.normalize("NFC", _ACCENTS.sub(r"\1", decomposed)).casefold()


def keywords_match(*, words: list[str], text: str) -> str | None:
    """The first keyword (as the rule stores it, already folded) found in the text, if any.

    A plain substring test: Thai and Japanese are written without spaces between words,
    so a word boundary cannot be asked for in every language.
    """
    folded = text_fold(text)
    return next((word for word in words if word and word in folded), None)


# --- the email template sandbox --------------------------------------------------------

_ENGINES = {
    escape: Engine(loaders=[], app_dirs=False, autoescape=escape, libraries={})
    for escape in (True, False)
}


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def template_check(source: str, *, field: str) -> None:
    """Refuse a template that would not render in the sandbox: a syntax error, any tag, a
    variable not in TEMPLATE_VARIABLES (or an attribute of one), a filter not allowed."""
    try:
        template = _ENGINES[False].from_string(source)
    except TemplateSyntaxError as exc:
        raise _error(
            field, _("The template cannot be read: %(error)s") % {"error": exc}, "template_syntax"
        ) from None
    allowed = ", ".join(f"{{{{ {name} }}}}" for name in TEMPLATE_VARIABLES)
    for node in template.nodelist:
        if isinstance(node, TextNode):
            # Django leaves an unclosed "{{" as text: it would reach the customer as is.
            if any(mark in node.s for mark in ("{{", "}}", "{%", "%}")):
                raise _error(
                    field,
                    _("The template cannot be read: a “{{” or “{%%” is not closed."),
                    "template_syntax",
                )
            continue
        if not isinstance(node, VariableNode):
            raise _error(
                field,
                _("Only text and variables are allowed, such as %(allowed)s.")
                % {"allowed": allowed},
                "template_tag",
            )
        expression: FilterExpression = node.filter_expression
        variable = expression.var
        name = getattr(variable, "var", variable)
        if not isinstance(name, str) or name not in TEMPLATE_VARIABLES:
            raise _error(
                field,
                _("Unknown variable “%(name)s”: use one of %(allowed)s.")
                % {"name": getattr(variable, "token", name), "allowed": allowed},
                "template_variable",
            )
        for func, _args in expression.filters:
            if func.__name__ not in TEMPLATE_FILTERS:
                raise _error(
                    field,
                    _("The filter “%(name)s” is not allowed here.") % {"name": func.__name__},
                    "template_filter",
                )


def template_render(source: str, context: dict[str, Any], *, html: bool) -> str:
    """A checked template rendered with only the whitelisted variables (HTML-escaped for
    the HTML part)."""
    kept = {name: context.get(name, "") for name in TEMPLATE_VARIABLES}
    return _ENGINES[html].from_string(source).render(Context(kept, autoescape=html))


# --- the rule's parts --------------------------------------------------------------------


def _ids(value: Any, *, field: str) -> list[int]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise _error(field, _("A list of ids was expected."), "invalid")
    return sorted(set(value))


def _known(ids: list[int], queryset, *, field: str, message: str) -> None:
    if ids and queryset.filter(pk__in=ids).count() != len(ids):
        raise _error(field, message, "unknown")


def scope_clean(*, organisation: Organisation, scope: Any) -> dict[str, list]:
    if not isinstance(scope, dict):
        raise _error("scope", _("The scope is not readable."), "invalid")
    unknown = set(scope) - {"surveys", "channels", "locations", "segments"}
    if unknown:
        raise _error("scope", _("The scope is not readable."), "invalid")
    surveys = _ids(scope.get("surveys"), field="surveys")
    locations = _ids(scope.get("locations"), field="locations")
    segments = _ids(scope.get("segments"), field="segments")
    channels = scope.get("channels") or []
    if not isinstance(channels, list) or not set(channels) <= set(ChannelKind.values):
        raise _error("channels", _("Unknown channel."), "unknown")
    _known(
        surveys,
        Survey.objects.for_organisation(organisation),
        field="surveys",
        message=_("Unknown survey: pick one of this organisation's surveys."),
    )
    _known(
        locations,
        Location.objects.for_organisation(organisation),
        field="locations",
        message=_("Unknown store: pick one of this organisation's stores."),
    )
    _known(
        segments,
        Segment.objects.for_organisation(organisation),
        field="segments",
        message=_("Unknown segment: pick one of this organisation's segments."),
    )
    return {
        "surveys": surveys,
        "channels": sorted(set(channels)),
        "locations": locations,
        "segments": segments,
    }


def _number(value: Any, *, field: str) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(field, _("Enter a number."), "invalid")
    return int(value) if float(value).is_integer() else float(value)


def condition_clean(organisation: Organisation, raw: Any, n: int) -> dict[str, Any]:
    """One condition, checked against the organisation's rows (`n` numbers it in errors)."""
    field = "conditions"

    def refuse(message: str, code: str) -> ValidationError:
        return _error(field, _("Condition %(n)s: %(problem)s") % {"n": n, "problem": message}, code)

    if not isinstance(raw, dict) or raw.get("kind") not in RuleConditionKind.values:
        raise refuse(_("choose what it looks at."), "invalid")
    kind = raw["kind"]
    if kind == RuleConditionKind.SCORE:
        score = raw.get("score")
        if score not in RuleScoreKind.values:
            raise refuse(_("choose a kind of score."), "invalid")
        low, high = SCORE_BOUNDS[score]
        question = raw.get("question")
        if question is not None:
            found = (
                Question.objects.for_organisation(organisation)
                .filter(pk=question, type__in=SCORE_QUESTION_TYPES[score])
                .first()
                if isinstance(question, int)
                else None
            )
            if found is None:
                raise refuse(
                    _("unknown question: pick one of this organisation's %(kind)s questions.")
                    % {"kind": RuleScoreKind(score).label},
                    "unknown_question",
                )
            low, high = found.bounds or (low, high)
        minimum = _number(raw.get("min"), field=field)
        maximum = _number(raw.get("max"), field=field)
        if minimum is None and maximum is None:
            raise refuse(_("give the lowest or the highest score, or both."), "invalid")
        if (
            (minimum is not None and maximum is not None and minimum > maximum)
            or (minimum is not None and not low <= minimum <= high)
            or (maximum is not None and not low <= maximum <= high)
        ):
            raise refuse(
                _("impossible range: scores run from %(low)s to %(high)s, lowest first.")
                % {"low": low, "high": high},
                "impossible_range",
            )
        return {"kind": kind, "score": score, "question": question, "min": minimum, "max": maximum}
    if kind == RuleConditionKind.CHOICE:
        choice = raw.get("choice")
        if not isinstance(choice, int) or not (
            Choice.objects.for_organisation(organisation).filter(pk=choice).exists()
        ):
            raise refuse(_("unknown choice: pick one of this organisation's."), "unknown_choice")
        return {"kind": kind, "choice": choice}
    if kind == RuleConditionKind.SENTIMENT:
        below = _number(raw.get("below"), field=field)
        if below is None or not -1 < below <= 1:
            raise refuse(_("impossible range: sentiment runs from −1 to +1."), "impossible_range")
        return {"kind": kind, "below": below}
    if kind == RuleConditionKind.KEYWORDS:
        words = raw.get("words")
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise refuse(_("list the words, one per line."), "invalid")
        folded: list[str] = []
        for word in words:
            word = text_fold(" ".join(word.split()))
            if len(word) > KEYWORD_MAX_LENGTH:
                raise refuse(
                    _("keep each word under %(n)s characters.") % {"n": KEYWORD_MAX_LENGTH},
                    "max_length",
                )
            if word and word not in folded:
                folded.append(word)
        if not folded or len(folded) > MAX_KEYWORDS:
            raise refuse(_("give 1 to %(n)s words, one per line.") % {"n": MAX_KEYWORDS}, "invalid")
        return {"kind": kind, "words": folded}
    if kind == RuleConditionKind.SEGMENT:
        segment = raw.get("segment")
        if not isinstance(segment, int) or not (
            Segment.objects.for_organisation(organisation).filter(pk=segment).exists()
        ):
            raise refuse(_("unknown segment: pick one of this organisation's."), "unknown")
        return {"kind": kind, "segment": segment}
    if raw.get("is") not in RuleHistory.values:
        raise refuse(_("choose first response or repeat detractor."), "invalid")
    return {"kind": kind, "is": raw["is"]}


def conditions_clean(*, organisation: Organisation, conditions: Any) -> list[dict[str, Any]]:
    if not isinstance(conditions, list) or not conditions:
        raise _error("conditions", _("Give the rule at least one condition."), "required")
    if len(conditions) > MAX_CONDITIONS:
        raise _error(
            "conditions",
            _("Give the rule at most %(n)s conditions.") % {"n": MAX_CONDITIONS},
            "max_length",
        )
    return [condition_clean(organisation, raw, n) for n, raw in enumerate(conditions, 1)]


def _email_clean(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _error("email", _("The email settings are not readable."), "invalid")
    delay = raw.get("delay_minutes") or 0
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= DELAY_MAX_MINUTES:
        raise _error(
            "delay_minutes",
            _("Wait 0 to %(n)s minutes.") % {"n": DELAY_MAX_MINUTES},
            "invalid",
        )
    templates: dict[str, dict[str, str]] = {}
    for language, pair in (raw.get("templates") or {}).items():
        if language not in LANGUAGES or not isinstance(pair, dict):
            raise _error("email", _("Unknown language."), "invalid")
        subject = " ".join(str(pair.get("subject") or "").split())
        body = str(pair.get("body") or "").strip()
        if not subject and not body:
            continue
        if not subject or not body:
            raise _error(
                f"body_{language}",
                _("Write both a subject and a text, or neither (the standard email)."),
                "incomplete",
            )
        if len(subject) > SUBJECT_MAX_LENGTH:
            raise _error(
                f"subject_{language}",
                _("Keep the subject to %(n)s characters.") % {"n": SUBJECT_MAX_LENGTH},
                "max_length",
            )
        if len(body) > BODY_MAX_LENGTH:
            raise _error(
                f"body_{language}",
                _("Keep the text to %(n)s characters.") % {"n": BODY_MAX_LENGTH},
                "max_length",
            )
        template_check(subject, field=f"subject_{language}")
        template_check(body, field=f"body_{language}")
        templates[language] = {"subject": subject, "body": body}
    return {"delay_minutes": delay, "templates": templates}


def _case_clean(organisation: Organisation, raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _error("case", _("The case settings are not readable."), "invalid")
    priority = raw.get("priority") or ""
    if priority and priority not in CasePriority.values:
        raise _error("priority", _("Unknown priority."), "invalid")
    team = raw.get("team")
    teams = Team.objects.for_organisation(organisation)
    if team is not None and not (isinstance(team, int) and teams.filter(pk=team).exists()):
        raise _error("team", _("Unknown team: pick one of this organisation's teams."), "unknown")
    assign = raw.get("assign") or ""
    if assign not in RuleAssignment.values:
        raise _error("assign", _("Unknown way of assigning."), "invalid")
    person = raw.get("person")
    if assign == RuleAssignment.PERSON:
        if not (
            isinstance(person, int)
            and StaffRole.objects.for_organisation(organisation)
            .filter(user_id=person, role__in=WORK_CASES_ROLES)
            .exists()
        ):
            raise _error(
                "person",
                _("Pick someone of this organisation who works cases."),
                "unknown",
            )
    else:
        person = None
    if assign == RuleAssignment.ROUND_ROBIN and team is None:
        raise _error("team", _("Round-robin needs a team to take turns in."), "required")
    return {"priority": priority, "team": team, "assign": assign, "person": person}


def actions_clean(*, organisation: Organisation, actions: Any) -> dict[str, Any]:
    if not isinstance(actions, dict):
        raise _error("actions", _("The actions are not readable."), "invalid")
    alert = actions.get("alert") or ""
    if alert not in RuleAlert.values:
        raise _error("alert", _("Unknown kind of alert."), "invalid")
    cleaned = {
        "case": _case_clean(organisation, actions.get("case")),
        "email": _email_clean(actions.get("email")),
        "alert": alert,
        "webhook": bool(actions.get("webhook")),
    }
    if not (cleaned["case"] or cleaned["email"] or cleaned["alert"] or cleaned["webhook"]):
        raise _error("actions", _("Give the rule something to do."), "required")
    return cleaned


def match_clean(match: Any) -> str:
    if match not in RuleMatch.values:
        raise _error("match", _("Choose all or any."), "invalid")
    return match
