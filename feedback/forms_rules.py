"""The follow-up rule editor's form: the rule's fields as plain inputs, put together into
the rule's scope, conditions and actions (feedback.models.rules) and checked by the same
functions the service uses (feedback.services.followup_spec), so each error is shown next
to the input it is about."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
from feedback.models import FollowUpRule, Team
from feedback.services.followup_spec import (
    BODY_MAX_LENGTH,
    DELAY_MAX_MINUTES,
    MAX_CONDITIONS,
    SUBJECT_MAX_LENGTH,
    TEMPLATE_VARIABLES,
    actions_clean,
    condition_clean,
    match_clean,
    scope_clean,
)
from surveys.choices import CHOICE_TYPES, ChannelKind, QuestionType
from surveys.models import Choice, Question, Survey
from surveys.models.surveys import translated

LANGUAGES = settings.LANGUAGES
MIN_CONDITION_ROWS = 3
CONDITION_FIELDS = ("kind", "score", "question", "min", "max", "choice", "below", "words")
CONDITION_FIELDS += ("segment", "history")
_ROW = re.compile(r"^c(\d+)_kind$")
SCORE_TYPES = (QuestionType.NPS, QuestionType.CSAT, QuestionType.STAR, QuestionType.RATING)


def _int_or_none(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


class RuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    match = forms.ChoiceField(
        label=gettext_lazy("The rule holds when"), choices=RuleMatch.choices, initial="all"
    )
    stop = forms.BooleanField(
        label=gettext_lazy("Stop after this rule (later rules are not applied)"), required=False
    )
    surveys = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Surveys"), coerce=int, required=False
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"), choices=ChannelKind.choices, required=False
    )
    locations = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Stores"), coerce=int, required=False
    )
    segments = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Segments"), coerce=int, required=False
    )
    open_case = forms.BooleanField(label=gettext_lazy("Open a case"), required=False)
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"),
        choices=[("", gettext_lazy("Automatic (high for NPS 0–3)")), *CasePriority.choices],
        required=False,
    )
    team = forms.TypedChoiceField(
        label=gettext_lazy("Team"), coerce=int, empty_value=None, required=False
    )
    assign = forms.ChoiceField(
        label=gettext_lazy("Assign to"), choices=RuleAssignment.choices, required=False
    )
    person = forms.TypedChoiceField(
        label=gettext_lazy("Person"), coerce=int, empty_value=None, required=False
    )
    email_respondent = forms.BooleanField(
        label=gettext_lazy("Email the respondent (only with their consent, never anonymous)"),
        required=False,
    )
    delay_minutes = forms.IntegerField(
        label=gettext_lazy("Send after (minutes)"),
        min_value=0,
        max_value=DELAY_MAX_MINUTES,
        required=False,
        initial=0,
    )
    alert = forms.ChoiceField(
        label=gettext_lazy("Alert staff"), choices=RuleAlert.choices, required=False
    )
    webhook = forms.BooleanField(label=gettext_lazy("Send to webhooks (later)"), required=False)

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["surveys"].choices = [
            (s.pk, s.title_text or f"#{s.pk}")
            for s in Survey.objects.for_organisation(organisation).order_by("pk")
        ]
        self.fields["locations"].choices = [
            (loc.pk, loc.name) for loc in Location.objects.for_organisation(organisation)
        ]
        segments = [
            (s.pk, f"{s.community.name} · {s.name}")
            for s in Segment.objects.for_organisation(organisation).select_related("community")
        ]
        self.fields["segments"].choices = segments
        self.fields["team"].choices = [("", "—")] + [
            (t.pk, t.name) for t in Team.objects.for_organisation(organisation)
        ]
        people = (
            StaffRole.objects.for_organisation(organisation)
            .filter(role__in=WORK_CASES_ROLES, user__is_active=True)
            .select_related("user")
            .order_by("user__name", "user__email")
        )
        self.fields["person"].choices = [("", "—")] + [
            (r.user_id, r.user.name or r.user.email) for r in people
        ]
        questions = [
            (q.pk, f"{q.survey.title_text} · {q.text_for()} ({q.get_type_display()})")
            for q in Question.objects.for_organisation(organisation)
            .filter(type__in=SCORE_TYPES)
            .select_related("survey")
        ]
        choices = [
            (c.pk, f"{c.question.text_for()}: {_label(c)}")
            for c in Choice.objects.for_organisation(organisation)
            .filter(question__type__in=CHOICE_TYPES)
            .select_related("question")
        ]
        for language, language_name in LANGUAGES:
            self.fields[f"subject_{language}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": language_name},
                max_length=SUBJECT_MAX_LENGTH,
                required=False,
            )
            self.fields[f"body_{language}"] = forms.CharField(
                label=_("Text (%(language)s)") % {"language": language_name},
                max_length=BODY_MAX_LENGTH,
                required=False,
                widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
            )
        self.condition_count = self._rows()
        for n in range(1, self.condition_count + 1):
            self._condition_fields(n, questions, choices, segments)

    def _rows(self) -> int:
        rows = len(self.initial.get("conditions") or []) + 1
        for key in self.data or {}:
            if match := _ROW.match(key):
                rows = max(rows, int(match.group(1)))
        return min(max(rows, MIN_CONDITION_ROWS), MAX_CONDITIONS)

    def _condition_fields(self, n: int, questions, choices, segments) -> None:
        any_ = [("", _("Any question of that kind"))]
        self.fields[f"c{n}_kind"] = forms.ChoiceField(
            label=_("Looks at"),
            choices=[("", "—"), *RuleConditionKind.choices],
            required=False,
        )
        self.fields[f"c{n}_score"] = forms.ChoiceField(
            label=_("Score"), choices=[("", "—"), *RuleScoreKind.choices], required=False
        )
        self.fields[f"c{n}_question"] = forms.TypedChoiceField(
            label=_("Question"),
            choices=any_ + questions,
            coerce=int,
            empty_value=None,
            required=False,
            error_messages={"invalid_choice": _("Unknown question: pick one from the list.")},
        )
        self.fields[f"c{n}_min"] = forms.FloatField(label=_("Lowest score"), required=False)
        self.fields[f"c{n}_max"] = forms.FloatField(label=_("Highest score"), required=False)
        self.fields[f"c{n}_choice"] = forms.TypedChoiceField(
            label=_("Choice"),
            choices=[("", "—"), *choices],
            coerce=int,
            empty_value=None,
            required=False,
            error_messages={"invalid_choice": _("Unknown choice: pick one from the list.")},
        )
        self.fields[f"c{n}_below"] = forms.FloatField(
            label=_("Sentiment below (−1 to +1)"), required=False
        )
        self.fields[f"c{n}_words"] = forms.CharField(
            label=_("Words, one per line (any language; case and accents ignored)"),
            required=False,
            max_length=5_000,
            widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        )
        self.fields[f"c{n}_segment"] = forms.TypedChoiceField(
            label=_("Segment"),
            choices=[("", "—"), *segments],
            coerce=int,
            empty_value=None,
            required=False,
        )
        self.fields[f"c{n}_history"] = forms.ChoiceField(
            label=_("Respondent"), choices=[("", "—"), *RuleHistory.choices], required=False
        )

    @property
    def condition_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"c{n}_{name}"] for name in CONDITION_FIELDS]
            for n in range(1, self.condition_count + 1)
        ]

    @property
    def template_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(name, self[f"subject_{code}"], self[f"body_{code}"]) for code, name in LANGUAGES]

    @property
    def template_variables(self) -> str:
        return " ".join(f"{{{{ {name} }}}}" for name in TEMPLATE_VARIABLES)

    @classmethod
    def initial_from(cls, rule: FollowUpRule) -> dict[str, Any]:
        scope, actions = rule.scope or {}, rule.actions or {}
        case, email = actions.get("case") or {}, actions.get("email") or {}
        initial: dict[str, Any] = {
            "name": rule.name,
            "active": rule.active,
            "match": rule.match,
            "stop": rule.stop,
            "surveys": scope.get("surveys") or [],
            "channels": scope.get("channels") or [],
            "locations": scope.get("locations") or [],
            "segments": scope.get("segments") or [],
            "open_case": bool(actions.get("case")),
            "priority": case.get("priority") or "",
            "team": case.get("team"),
            "assign": case.get("assign") or "",
            "person": case.get("person"),
            "email_respondent": bool(actions.get("email")),
            "delay_minutes": email.get("delay_minutes") or 0,
            "alert": actions.get("alert") or "",
            "webhook": bool(actions.get("webhook")),
            "conditions": rule.conditions or [],
        }
        for language, pair in (email.get("templates") or {}).items():
            initial[f"subject_{language}"] = pair.get("subject", "")
            initial[f"body_{language}"] = pair.get("body", "")
        for n, condition in enumerate(rule.conditions or [], 1):
            initial[f"c{n}_kind"] = condition.get("kind")
            if condition.get("kind") == RuleConditionKind.KEYWORDS:
                initial[f"c{n}_words"] = "\n".join(condition.get("words") or [])
            elif condition.get("kind") == RuleConditionKind.HISTORY:
                initial[f"c{n}_history"] = condition.get("is")
            else:
                for key in ("score", "question", "min", "max", "choice", "below", "segment"):
                    if condition.get(key) is not None:
                        initial[f"c{n}_{key}"] = condition[key]
        return initial

    def _condition(self, n: int) -> dict[str, Any] | None:
        data = self.cleaned_data
        kind = data.get(f"c{n}_kind")
        if not kind:
            return None
        if kind == RuleConditionKind.SCORE:
            return {
                "kind": kind,
                "score": data.get(f"c{n}_score"),
                "question": data.get(f"c{n}_question"),
                "min": data.get(f"c{n}_min"),
                "max": data.get(f"c{n}_max"),
            }
        if kind == RuleConditionKind.KEYWORDS:
            return {"kind": kind, "words": (data.get(f"c{n}_words") or "").splitlines()}
        if kind == RuleConditionKind.HISTORY:
            return {"kind": kind, "is": data.get(f"c{n}_history")}
        key = {"choice": "choice", "sentiment": "below", "segment": "segment"}[kind]
        return {"kind": kind, key: data.get(f"c{n}_{key}")}

    def _put(self, exc: ValidationError, *, default: str | None = None) -> None:
        for name, errors in exc.error_dict.items():
            self.add_error(name if name in self.fields else default, errors)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        conditions = []
        for n in range(1, self.condition_count + 1):
            raw = self._condition(n)
            if raw is None:
                continue
            try:
                conditions.append(condition_clean(self.organisation, raw, n))
            except ValidationError as exc:
                self._put(exc, default=f"c{n}_kind")
        if not conditions and not self.errors:
            self.add_error("c1_kind", _("Give the rule at least one condition."))
        for check in (
            lambda: data.update(match=match_clean(data.get("match"))),
            lambda: data.update(
                scope=scope_clean(organisation=self.organisation, scope=self._scope())
            ),
            lambda: data.update(
                actions=actions_clean(organisation=self.organisation, actions=self._actions())
            ),
        ):
            try:
                check()
            except ValidationError as exc:
                self._put(exc)
        data["conditions"] = conditions
        return data

    def _scope(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "surveys": data.get("surveys") or [],
            "channels": data.get("channels") or [],
            "locations": data.get("locations") or [],
            "segments": data.get("segments") or [],
        }

    def _actions(self) -> dict[str, Any]:
        data = self.cleaned_data
        case = None
        if data.get("open_case"):
            case = {
                "priority": data.get("priority") or "",
                "team": data.get("team"),
                "assign": data.get("assign") or "",
                "person": data.get("person"),
            }
        email = None
        if data.get("email_respondent"):
            email = {
                "delay_minutes": data.get("delay_minutes") or 0,
                "templates": {
                    code: {
                        "subject": data.get(f"subject_{code}") or "",
                        "body": data.get(f"body_{code}") or "",
                    }
                    for code, _name in LANGUAGES
                },
            }
        return {
            "case": case,
            "email": email,
            "alert": data.get("alert") or "",
            "webhook": bool(data.get("webhook")),
        }

    def rule_fields(self) -> dict[str, Any]:
        """The rule as the services take it."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "active": data.get("active"),
            "match": data["match"],
            "stop": data.get("stop"),
            "scope": data["scope"],
            "conditions": data["conditions"],
            "actions": data["actions"],
        }

    def email_templates(self) -> dict[str, dict[str, str]]:
        """The per-language templates written (for the preview)."""
        email = (self.cleaned_data.get("actions") or {}).get("email") or {}
        return email.get("templates") or {}


def _label(choice: Choice) -> str:
    return translated(choice.label)
