"""Staff forms of the approval queue and of a member's points.

The services (rewards.services) are the authority on what may happen; these forms shape
what arrives from the page and the query string, so a hand-edited address or a stale tab
gets an error next to the field, never a server error.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from communities.forms.audit import EARLIEST_DATE, LATEST_DATE, DateRangeMixin
from communities.models import Community, Organisation
from rewards.choices import RedemptionStatus, RewardKind
from rewards.selectors import redemption_rewards

# The queue starts on the requests waiting for a decision; "all" lifts the status filter.
STATUS_ALL = "all"
DEFAULT_STATUS = RedemptionStatus.REQUESTED
# The query-string names the queue keeps from page to page, in the order links carry them.
FILTER_NAMES = ("status", "reward", "community", "kind", "since", "until")
# How many rows one bulk decision may name: a page of the queue, with room to spare.
DECIDE_MAX = 500
# An id as the database can hold it; anything else in the form is refused.
_ID = re.compile(r"[0-9]{1,18}")
NOTE_MAX = 1000
ADJUST_NOTE_MAX = 500
ADJUST_MAX = 10_000_000


def _date_field(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(
            attrs={
                "type": "date",
                "min": EARLIEST_DATE.isoformat(),
                "max": LATEST_DATE.isoformat(),
            },
            format="%Y-%m-%d",
        ),
        error_messages={"invalid": _("Enter a date like 2026-03-31.")},
    )


class RedemptionFilterForm(DateRangeMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        error_messages={"invalid_choice": _("Choose a status from the list.")},
    )
    reward = forms.ModelChoiceField(
        label=_("Reward"),
        queryset=None,
        required=False,
        empty_label=_("Any reward"),
        error_messages={"invalid_choice": _("Choose a reward from the list.")},
    )
    community = forms.ModelChoiceField(
        label=_("Community"),
        queryset=None,
        required=False,
        empty_label=_("Any community"),
        error_messages={"invalid_choice": _("Choose a community from the list.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        error_messages={"invalid_choice": _("Choose a kind from the list.")},
    )
    since = _date_field(_("Requested from"))
    until = _date_field(_("Requested until"))

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            *RedemptionStatus.choices,
            (STATUS_ALL, _("Any status")),
        ]
        self.fields["reward"].queryset = redemption_rewards(organisation=organisation)
        self.fields["community"].queryset = Community.objects.for_organisation(
            organisation
        ).order_by("name")
        self.fields["kind"].choices = [("", _("Any kind")), *RewardKind.choices]

    @classmethod
    def from_query(cls, query, *, organisation: Organisation) -> RedemptionFilterForm:
        """The form of the filters in a query string; without any, the default queue."""
        data = {name: query.get(name) for name in FILTER_NAMES if query.get(name) is not None}
        return cls(data or None, organisation=organisation)

    def filters(self) -> dict[str, Any]:
        """The valid filters as selector arguments: status None means any; an unbound form
        is the default queue. Call after is_valid()."""
        data = self.cleaned_data if self.is_bound else {}
        status = data.get("status") or DEFAULT_STATUS
        return {
            "status": None if status == STATUS_ALL else status,
            "reward": data.get("reward"),
            "community": data.get("community"),
            "kind": data.get("kind") or "",
            "since": data.get("since"),
            "until": data.get("until"),
        }

    def query(self) -> dict[str, str]:
        """The filters as they were asked for, for links (pages, the export, going back)."""
        if not self.is_bound:
            return {}
        return {
            name: str(self.data[name])
            for name in FILTER_NAMES
            if self.data.get(name) not in ("", None)
        }


class RedemptionDecideForm(forms.Form):
    """Approve or reject the ticked redemptions of the queue."""

    action = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        error_messages={
            "required": _("Choose approve or reject."),
            "invalid_choice": _("Choose approve or reject."),
        },
    )
    ids = forms.TypedMultipleChoiceField(
        coerce=int,
        error_messages={
            "required": _("Tick at least one redemption."),
            "invalid_choice": _("Tick redemptions from the list."),
        },
    )
    reason = forms.CharField(
        label=_("Reason (the member sees it)"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any whole number is accepted here; which of them are the organisation's is the
        # view's question (another organisation's id is refused there, never acted on).
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(value, value) for value in raw if _ID.fullmatch(value)]

    def clean_ids(self) -> list[int]:
        ids = list(dict.fromkeys(self.cleaned_data["ids"]))
        if len(ids) > DECIDE_MAX:
            raise forms.ValidationError(
                _("Decide at most %(max)d redemptions at once.") % {"max": DECIDE_MAX}
            )
        return ids

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give a reason for rejecting: the member sees it."))
        return data


class RedemptionNoteForm(forms.Form):
    """Reject or cancel one redemption: the reason the member reads."""

    reason = forms.CharField(
        label=_("Reason (the member sees it)"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give a reason: the member sees it.")},
    )


class RedemptionFulfilForm(forms.Form):
    tracking_note = forms.CharField(
        label=_("Tracking note"),
        required=False,
        max_length=NOTE_MAX,
        help_text=_("How it was sent: the carrier and tracking number, or how it was given."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


TOKEN_PATTERN = r"^[0-9a-f]{32}$"
_FORM_EXPIRED = _("This form has expired. Reload the page and try again.")


def adjust_token() -> str:
    """A fresh token for one adjustment form: the same form sent twice adjusts once."""
    return secrets.token_hex(16)


class PointsAdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        help_text=_("A positive number adds points; a negative one takes them away."),
        widget=forms.NumberInput(
            attrs={"step": 1, "min": -ADJUST_MAX, "max": ADJUST_MAX, "inputmode": "numeric"}
        ),
        error_messages={
            "required": _("Enter how many points to add or take away."),
            "invalid": _("Enter a whole number, such as 50 or -20."),
        },
    )
    reason = forms.CharField(
        label=_("Reason (the member sees it)"),
        max_length=ADJUST_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why: the member sees this reason.")},
    )
    token = forms.CharField(
        widget=forms.HiddenInput,
        validators=[RegexValidator(TOKEN_PATTERN, message=_FORM_EXPIRED)],
        error_messages={"required": _FORM_EXPIRED},
    )

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("An adjustment must add or take away points."))
        if abs(points) > ADJUST_MAX:
            raise forms.ValidationError(
                _("One adjustment may add or take away at most %(max)d points.")
                % {"max": ADJUST_MAX}
            )
        return points
