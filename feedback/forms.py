"""The case inbox's filters and the forms that change a case (one at a time or in bulk).

The choices of staff, surveys and stores are handed in by the view, read once per request,
so a form never looks a row up on its own and a foreign id is simply not a choice.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.models import User
from feedback.choices import CasePriority, CaseStatus
from feedback.selectors import (
    NOT_RESOLVED,
    OWNER_ME,
    OWNER_NONE,
    SORT_DUE,
    SORT_NEWEST,
    SORT_OLDEST,
    SORT_PRIORITY,
    CaseFilters,
)
from feedback.services.cases import NOTE_MAX_LENGTH, RESOLUTION_MAX_LENGTH

SEARCH_MAX_LENGTH = 200


def _staff_choices(staff: Iterable[User]) -> list[tuple[str, str]]:
    return [(str(user.pk), user.name or user.email) for user in staff]


class CaseFilterForm(forms.Form):
    """The inbox's filters, read from the query string (a bookmarkable GET form). A value
    that is not valid is dropped and said so; the others still apply."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        help_text=_("A case number, or words of the reason it was opened."),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    survey = forms.TypedChoiceField(label=_("Survey"), required=False, coerce=int, empty_value=None)
    location = forms.TypedChoiceField(
        label=_("Store"), required=False, coerce=int, empty_value=None
    )
    overdue = forms.BooleanField(
        label=_("Overdue only"),
        required=False,
        help_text=_("Past the first response or resolution target."),
    )
    created_from = forms.DateField(
        label=_("Opened from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("Opened until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            (SORT_NEWEST, _("Newest first")),
            (SORT_OLDEST, _("Oldest first")),
            (SORT_PRIORITY, _("Highest priority first")),
            (SORT_DUE, _("Due soonest")),
        ],
    )

    def __init__(
        self, *args, staff: Iterable[User], surveys, locations, teams=(), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        anything = ("", pgettext_lazy("filter", "Any"))
        self.fields["status"].choices = [
            anything,
            (NOT_RESOLVED, _("Not resolved")),
            *CaseStatus.choices,
        ]
        self.fields["priority"].choices = [anything, *CasePriority.choices]
        self.fields["owner"].choices = [
            anything,
            (OWNER_ME, _("Me")),
            (OWNER_NONE, _("Unassigned")),
            *_staff_choices(staff),
        ]
        self.fields["team"].choices = [anything, *((str(t.pk), t.name) for t in teams)]
        self.fields["survey"].choices = [anything, *((str(s.pk), s.title_text) for s in surveys)]
        self.fields["location"].choices = [
            anything,
            *((str(loc.pk), loc.name) for loc in locations),
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("Pick an end date on or after the start date."))
        return cleaned

    def filters(self) -> CaseFilters:
        """The valid filters; the invalid ones are left out (their errors are on the form)."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return CaseFilters(
            status=data.get("status") or "",
            priority=data.get("priority") or "",
            owner=data.get("owner") or "",
            team=data.get("team"),
            survey=data.get("survey"),
            location=data.get("location"),
            overdue=bool(data.get("overdue")),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            search=data.get("q") or "",
            sort=data.get("sort") or SORT_NEWEST,
        )


class _AssigneeField(forms.ChoiceField):
    default_error_messages = {
        "invalid_choice": _(
            "Pick someone of this organisation who works cases (an owner, admin or agent)."
        ),
    }


class CaseAssignForm(forms.Form):
    """Whom to give the case to: a case worker of the organisation, "me", or nobody."""

    assignee = _AssigneeField(label=_("Owner"), required=False)

    def __init__(self, *args, staff: Iterable[User], user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {str(u.pk): u for u in staff}
        self.user = user
        self.fields["assignee"].choices = [
            ("", _("Nobody (unassigned)")),
            (OWNER_ME, _("Me")),
            *_staff_choices(self.staff.values()),
        ]

    def clean_assignee(self) -> User | None:
        value = self.cleaned_data["assignee"]
        if value == OWNER_ME:
            if str(self.user.pk) not in self.staff:
                raise forms.ValidationError(
                    self.fields["assignee"].error_messages["invalid_choice"]
                )
            return self.user
        return self.staff.get(value) if value else None


class _RootCauseField(forms.TypedChoiceField):
    default_error_messages = {
        "invalid_choice": _("Pick one of this organisation's root causes."),
    }


def _root_cause_field() -> forms.TypedChoiceField:
    return _RootCauseField(
        label=_("Root cause"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Required to resolve: why the customer was let down."),
    )


def _root_cause_choices(root_causes: Iterable) -> list[tuple[str, str]]:
    return [("", "—"), *((str(cause.pk), cause.name) for cause in root_causes)]


class CaseStatusForm(forms.Form):
    """The status to move the case to; resolving says how and why (the service insists)."""

    status = forms.ChoiceField(label=_("Status"), choices=CaseStatus.choices)
    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        max_length=RESOLUTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to resolve: what was done for the customer."),
    )
    root_cause = _root_cause_field()
    recovery = forms.BooleanField(
        label=_("Ask the customer “Did we fix it?”"),
        required=False,
        help_text=_("One question by email; a low answer reopens the case."),
    )

    def __init__(self, *args, root_causes: Iterable = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["root_cause"].choices = _root_cause_choices(root_causes)


class CaseTeamForm(forms.Form):
    """The team (queue) the case belongs to, or none."""

    team = forms.TypedChoiceField(
        label=_("Team"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("Pick one of this organisation's teams.")},
    )

    def __init__(self, *args, teams: Iterable, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.teams = {team.pk: team for team in teams}
        self.fields["team"].choices = [
            ("", _("No team")),
            *((str(pk), team.name) for pk, team in self.teams.items()),
        ]

    def clean_team(self):
        value = self.cleaned_data["team"]
        return self.teams.get(value) if value else None


class CasePriorityForm(forms.Form):
    """The case's priority; its due times follow the SLA policy of the new one."""

    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=CasePriority.choices,
        error_messages={
            "required": _("Pick one of the priorities."),
            "invalid_choice": _("Pick one of the priorities."),
        },
    )


class CaseNoteForm(forms.Form):
    """An internal note; @name or @email mentions a colleague who works cases."""

    body = forms.CharField(
        label=_("Internal note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only staff see notes. Mention a colleague with @ and their name or email."),
        error_messages={"required": _("Write the note first.")},
    )
    # Names the rendered form, so sending it twice adds the note once.
    submission = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class CaseReplyForm(forms.Form):
    """An email to the customer, written on the case page."""

    body = forms.CharField(
        label=_("Reply to the customer"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent by email in the customer's language; their answer comes back here."),
        error_messages={"required": _("Write the reply first.")},
    )
    submission = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


BULK_ASSIGN, BULK_STATUS = "assign", "status"


class CaseBulkForm(forms.Form):
    """One action on the cases ticked in the inbox: give them all to someone, or move them
    all to a status (resolving them all with the one resolution note)."""

    cases = forms.TypedMultipleChoiceField(
        coerce=int, error_messages={"required": _("Tick at least one case.")}
    )
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[(BULK_ASSIGN, _("Assign to")), (BULK_STATUS, _("Change status to"))],
        error_messages={"required": _("Pick what to do with the ticked cases.")},
    )
    assignee = _AssigneeField(label=_("Owner"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        max_length=RESOLUTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("To resolve: one note, applied to every ticked case."),
    )
    root_cause = _root_cause_field()
    # The inbox's query string, to go back to the same filtered page.
    back = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        staff: Iterable[User],
        user: User,
        case_ids: Iterable[int],
        root_causes: Iterable = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.staff = {str(u.pk): u for u in staff}
        self.user = user
        self.fields["cases"].choices = [(str(pk), str(pk)) for pk in case_ids]
        self.fields["assignee"].choices = [
            ("", _("Nobody (unassigned)")),
            (OWNER_ME, _("Me")),
            *_staff_choices(self.staff.values()),
        ]
        self.fields["status"].choices = [("", "—"), *CaseStatus.choices]
        self.fields["root_cause"].choices = _root_cause_choices(root_causes)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("action") == BULK_STATUS and not cleaned.get("status"):
            self.add_error("status", _("Pick the status to move the cases to."))
        if (
            cleaned.get("action") == BULK_STATUS
            and cleaned.get("status") == CaseStatus.RESOLVED
            and not (cleaned.get("resolution") or "").strip()
        ):
            self.add_error("resolution", _("Say how the cases were resolved."))
        if (
            cleaned.get("action") == BULK_STATUS
            and cleaned.get("status") == CaseStatus.RESOLVED
            and not cleaned.get("root_cause")
            and "root_cause" not in self.errors
        ):
            self.add_error("root_cause", _("Pick the root cause the cases are resolved under."))
        if cleaned.get("action") == BULK_ASSIGN:
            value = cleaned.get("assignee")
            if value == OWNER_ME:
                cleaned["assignee"] = self.staff.get(str(self.user.pk))
                if cleaned["assignee"] is None:
                    self.add_error(
                        "assignee", self.fields["assignee"].error_messages["invalid_choice"]
                    )
            else:
                cleaned["assignee"] = self.staff.get(value) if value else None
        return cleaned


# --- case settings (owners and admins) ---------------------------------------------------


class TeamForm(forms.Form):
    """A team: its name, its lead and its members, picked from the case workers."""

    name = forms.CharField(label=_("Name"), max_length=100)
    lead = forms.TypedChoiceField(
        label=_("Team lead"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Hears by email of the team's cases that miss a target."),
        error_messages={"invalid_choice": _("Pick someone of this organisation who works cases.")},
    )
    members = forms.TypedMultipleChoiceField(
        label=_("Members"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Pick people of this organisation who work cases.")},
    )

    def __init__(self, *args, staff: Iterable[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {user.pk: user for user in staff}
        choices = _staff_choices(self.staff.values())
        self.fields["lead"].choices = [("", _("No lead")), *choices]
        self.fields["members"].choices = choices

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("lead"):
            cleaned["lead"] = self.staff[cleaned["lead"]]
        cleaned["members"] = [self.staff[pk] for pk in cleaned.get("members") or []]
        return cleaned


class RootCauseForm(forms.Form):
    name = forms.CharField(label=_("Root cause"), max_length=100)
    active = forms.BooleanField(label=_("Offered when resolving"), required=False, initial=True)


WEEKDAYS = [
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
]
# Up to four weeks of business hours: a longer target is a typo.
_TARGET_MAX_HOURS = 672


class ServiceLevelsForm(forms.Form):
    """Business hours, and per priority the first response and resolution targets in
    business hours (stored as minutes)."""

    days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Pick at least one working day.")},
    )
    opens = forms.TimeField(label=_("Opens at"), widget=forms.TimeInput(attrs={"type": "time"}))
    closes = forms.TimeField(label=_("Closes at"), widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for priority, label in CasePriority.choices:
            for target, words in (
                ("first_response", _("%(priority)s priority: first response within (hours)")),
                ("resolution", _("%(priority)s priority: resolution within (hours)")),
            ):
                self.fields[f"{priority}_{target}"] = forms.DecimalField(
                    label=words % {"priority": label},
                    min_value=0.25,
                    max_value=_TARGET_MAX_HOURS,
                    decimal_places=2,
                )

    def targets(self) -> dict[str, tuple[int, int]]:
        data = self.cleaned_data
        return {
            priority: (
                round(data[f"{priority}_first_response"] * 60),
                round(data[f"{priority}_resolution"] * 60),
            )
            for priority in CasePriority.values
        }


class RecoveryAnswerForm(forms.Form):
    """The customer's answer to "Did we fix it?"."""

    score = forms.TypedChoiceField(
        label=_("Did we fix it?"),
        coerce=int,
        choices=[
            (1, _("1 – Not at all")),
            (2, "2"),
            (3, "3"),
            (4, "4"),
            (5, _("5 – Completely")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Pick an answer from 1 to 5.")},
    )
