"""The text answers page's filters: the drill page's, less the score filters it does not
offer, plus sentiment and a keyword."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from insights.drill.forms import ResponseFilterForm
from insights.forms import DashboardFilterForm
from insights.text.selectors import TextFilters

KEYWORD_MAX_LENGTH = 100


class TextFilterForm(ResponseFilterForm):
    interval = DashboardFilterForm.base_fields["interval"]
    sentiment = forms.ChoiceField(
        label=_("Sentiment"),
        required=False,
        choices=[
            ("", _("All")),
            ("negative", _("Negative")),
            ("neutral", _("Neutral")),
            ("positive", _("Positive")),
        ],
    )
    keyword = forms.CharField(
        label=_("Keyword"), required=False, max_length=KEYWORD_MAX_LENGTH, strip=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("channel", "segment", "status", "tier", "stars", "csat"):
            del self.fields[name]
        self.fields["sentiment"].widget.attrs["class"] = "form-select"
        self.fields["keyword"].widget.attrs.update({"class": "form-control", "type": "search"})

    def text_filters(self) -> TextFilters | None:
        """The filters chosen, or None when the form is not valid (nothing is listed)."""
        responses = self.filters()
        if responses is None:
            return None
        return TextFilters(
            responses=responses.but(interval=self.cleaned_data.get("interval") or ""),
            sentiment=self.cleaned_data.get("sentiment") or None,
            keyword=self.cleaned_data.get("keyword") or "",
        )
