"""Staff pages of the follow-up rules: the ordered list, the editor (with "Test this rule"
and the email preview, neither of which writes), delete and reorder.

As on the rewards rules pages: owners, admins and analysts read the rules; owners and
admins change them; agents work the cases the rules open and get 403 here. Every change
is audited by its service (feedback.services.followup_admin).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from communities.formviews import StaffActionView, StaffFormView
from communities.models import Segment
from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from communities.selectors import audit_entries
from communities.views.settings import audit_rows, organisation_time_zone
from feedback.choices import (
    CasePriority,
    RuleAlert,
    RuleAssignment,
    RuleConditionKind,
    RuleHistory,
    RuleScoreKind,
)
from feedback.forms_rules import LANGUAGES, RuleForm
from feedback.models import FollowUpRule, Team
from feedback.reasons import reasons_render
from feedback.services.followup import DEFAULT_RULES, followup_email_render
from feedback.services.followup_admin import (
    TEST_RESPONSES,
    rule_compile,
    rule_create,
    rule_delete,
    rule_move,
    rule_test,
    rule_update,
)
from feedback.services.followup_spec import template_check
from surveys.models import Choice
from surveys.models.surveys import translated

# What the preview fills the variables with (the respondent's own words are never used).
PREVIEW_CONTEXT = {
    "name": "Ana",
    "survey_title": "…",
    "location_name": "Siam",
    "case_id": 1234,
    "unsubscribe_url": "https://example.com/unsubscribe",
}


def _score_words(condition: dict[str, Any]) -> str:
    kind = (
        RuleScoreKind(condition["score"]).label
        if condition.get("score") in RuleScoreKind.values
        else ""
    )
    low, high = condition.get("min"), condition.get("max")
    params = {"kind": kind, "low": low, "high": high}
    if low is not None and high is not None:
        return _("%(kind)s from %(low)s to %(high)s") % params
    if high is not None:
        return _("%(kind)s at most %(high)s") % params
    return _("%(kind)s at least %(low)s") % params


def condition_words(condition: dict[str, Any], names: dict[str, dict[int, str]]) -> str:
    """One condition as people read it, in the active language."""
    kind = condition.get("kind")
    if kind == RuleConditionKind.SCORE:
        return _score_words(condition)
    if kind == RuleConditionKind.CHOICE:
        return _("“%(choice)s” is picked") % {
            "choice": names["choices"].get(condition.get("choice"), "?")
        }
    if kind == RuleConditionKind.SENTIMENT:
        return _("Sentiment below %(below)s") % {"below": condition.get("below")}
    if kind == RuleConditionKind.KEYWORDS:
        return _("Text contains any of: %(words)s") % {
            "words": ", ".join(condition.get("words") or [])
        }
    if kind == RuleConditionKind.SEGMENT:
        return _("Respondent is in “%(segment)s”") % {
            "segment": names["segments"].get(condition.get("segment"), "?")
        }
    if condition.get("is") in RuleHistory.values:
        return str(RuleHistory(condition["is"]).label)
    return _("Unknown condition")


def action_words(actions: dict[str, Any], names: dict[str, dict[int, str]]) -> list[str]:
    words = []
    case = actions.get("case")
    if case:
        text = _("Open a case")
        if case.get("team"):
            text += " · " + names["teams"].get(case["team"], "?")
        if case.get("assign"):
            text += " · " + str(RuleAssignment(case["assign"]).label)
        words.append(text)
    if actions.get("email"):
        words.append(_("Email the respondent"))
    if actions.get("alert") in (RuleAlert.IMMEDIATE, RuleAlert.DIGEST):
        words.append(_("Alert staff: %(when)s") % {"when": RuleAlert(actions["alert"]).label})
    if actions.get("webhook"):
        words.append(_("Webhook"))
    return words


def _names(organisation) -> dict[str, dict[int, str]]:
    return {
        "teams": dict(Team.objects.for_organisation(organisation).values_list("pk", "name")),
        "segments": dict(Segment.objects.for_organisation(organisation).values_list("pk", "name")),
        "choices": {
            c.pk: translated(c.label) for c in Choice.objects.for_organisation(organisation)
        },
    }


def _list_url(view) -> str:
    return reverse("staff:rule_list", args=[view.organisation.slug])


class StaffRuleListView(StaffScopedMixin, TemplateView):
    """The organisation's rules in the order they are applied; the defaults when none."""

    template_name = "feedback/rules/list.html"
    permission = staticmethod(can_read_results)
    model = FollowUpRule

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rules = list(self.get_queryset().order_by("position", "pk"))
        names = _names(self.organisation) if rules else {}
        context.update(
            rules=[
                {
                    "rule": rule,
                    "conditions": [condition_words(c, names) for c in rule.conditions or []],
                    "actions": action_words(rule.actions or {}, names),
                    "first": n == 0,
                    "last": n == len(rules) - 1,
                }
                for n, rule in enumerate(rules)
            ],
            defaults=DEFAULT_RULES,
            can_edit=can_manage(self.role),
            change_rows=audit_rows(
                audit_entries(organisation=self.organisation, target_type="followup_rule", limit=10)
            ),
            time_zone=organisation_time_zone(self.organisation),
        )
        return context


class _RuleEditorMixin:
    """The editor's buttons besides save: "Test this rule" and "Preview the email" show
    their results on the page and write nothing."""

    template_name = "feedback/rules/form.html"
    form_class = RuleForm
    rule: FollowUpRule | None = None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "organisation": self.organisation}

    def form_valid(self, form: RuleForm) -> HttpResponse:
        action = self.request.POST.get("action", "save")
        if action == "test":
            try:
                compiled = rule_compile(
                    organisation=self.organisation,
                    fields={**form.rule_fields(), "pk": self.rule.pk if self.rule else None},
                )
            except ValidationError as exc:
                self.service_errors_put(form, exc)
                return self.form_invalid(form)
            result = rule_test(organisation=self.organisation, rule=compiled)
            languages = dict(LANGUAGES)
            for row in result.rows:
                # Put into words here, in the reader's language (the rows hold codes).
                row.extra.update(
                    why=reasons_render(row.reasons),
                    priority=CasePriority(row.priority).label if row.priority else "",
                    language=languages.get(row.email_language, row.email_language),
                )
            return self.render_to_response(self.get_context_data(form=form, test=result))
        if action == "preview":
            return self.render_to_response(
                self.get_context_data(form=form, previews=self._previews(form))
            )
        return super().form_valid(form)

    def _previews(self, form: RuleForm) -> list[dict[str, str]]:
        previews = []
        context = {**PREVIEW_CONTEXT, "organisation_name": self.organisation.name}
        for code, name in LANGUAGES:
            subject = form.cleaned_data.get(f"subject_{code}") or ""
            body = form.cleaned_data.get(f"body_{code}") or ""
            if not (subject or body):
                continue
            try:
                template_check(subject, field=f"subject_{code}")
                template_check(body, field=f"body_{code}")
            except ValidationError as exc:
                form._put(exc)
                continue
            subject, text, _html = followup_email_render(
                template={"subject": subject, "body": body}, context=context, language=code
            )
            previews.append({"language": code, "name": name, "subject": subject, "text": text})
        return previews

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            rule=self.rule,
            can_edit=can_manage(self.role),
            test_limit=TEST_RESPONSES,
            languages=LANGUAGES,
        )
        return context

    def get_success_url(self) -> str:
        return _list_url(self)


class StaffRuleCreateView(_RuleEditorMixin, StaffFormView):
    permission = staticmethod(can_manage)

    def get_initial(self) -> dict[str, Any]:
        return {"active": True, "match": "all", "open_case": True, "email_respondent": True}

    def form_save(self, form: RuleForm) -> FollowUpRule:
        return rule_create(
            organisation=self.organisation, actor=self.request.user, fields=form.rule_fields()
        )

    def get_success_message(self, form: RuleForm) -> str:
        return _("Rule “%(name)s” added.") % {"name": self.saved.name}


class StaffRuleEditView(_RuleEditorMixin, StaffFormView):
    """One rule: analysts see it, owners and admins change, test and preview it."""

    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)
    model = FollowUpRule

    def get_rule(self) -> FollowUpRule:
        if self.rule is None:
            self.rule = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return self.rule

    def get(self, request, *args, **kwargs) -> HttpResponse:
        self.get_rule()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs) -> HttpResponse:
        if not self._role_check(self.write_permission):
            raise PermissionDenied
        self.get_rule()
        return super().post(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        return RuleForm.initial_from(self.get_rule())

    def get_form(self, form_class=None) -> RuleForm:
        form = super().get_form(form_class)
        if not can_manage(self.role):
            for field in form.fields.values():
                field.disabled = True
        return form

    def form_save(self, form: RuleForm) -> FollowUpRule:
        return rule_update(rule=self.get_rule(), actor=self.request.user, fields=form.rule_fields())

    def get_success_message(self, form: RuleForm) -> str:
        return _("Rule “%(name)s” saved.") % {"name": self.saved.name}


class StaffRuleDeleteView(StaffActionView):
    model = FollowUpRule
    permission = staticmethod(can_manage)

    def act(self, rule: FollowUpRule) -> HttpResponse:
        name = rule.name
        rule_delete(rule=rule, actor=self.request.user)
        messages.success(self.request, _("Rule “%(name)s” deleted.") % {"name": name})
        return redirect(_list_url(self))

    def refused_url(self, rule: FollowUpRule) -> str:
        return _list_url(self)


class StaffRuleReorderView(StaffScopedMixin, View):
    """The list's up and down buttons: POST rule=<id>&direction=up|down."""

    http_method_names = ["post"]
    permission = staticmethod(can_manage)
    model = FollowUpRule

    def post(self, request, *args, **kwargs) -> HttpResponse:
        direction = request.POST.get("direction")
        rule_id = request.POST.get("rule", "")
        rule = self.get_queryset().filter(pk=int(rule_id)).first() if rule_id.isdigit() else None
        if rule is None or direction not in ("up", "down"):
            messages.error(request, _("Choose a rule and a direction to move it."))
        elif rule_move(rule=rule, actor=request.user, up=direction == "up"):
            messages.success(request, _("Rule “%(name)s” moved.") % {"name": rule.name})
        else:
            messages.info(request, _("The rule is already at that end of the list."))
        return redirect(_list_url(self))
