"""The staff rewards overview: points issued, redeemed, expired and held per month, as a
chart with the same numbers in a table, for the organisation or one of its communities.

Owners, admins and analysts read it; agents get 403. Another organisation's community id
answers 404, like any other id of theirs.
"""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from communities.models import Community
from communities.permissions import can_read_results
from communities.scoping import StaffScopedMixin
from communities.views.settings import organisation_time_zone
from rewards.charts import overview_chart
from rewards.selectors import rewards_overview


class OverviewFilterForm(forms.Form):
    community = forms.IntegerField(
        label=_("Community"),
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            "invalid": _("Choose a community from the list."),
            "min_value": _("Choose a community from the list."),
            "max_value": _("Choose a community from the list."),
        },
    )


class StaffRewardsOverviewView(StaffScopedMixin, TemplateView):
    template_name = "rewards/staff_rewards_overview.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        communities = list(
            Community.objects.for_organisation(self.organisation).order_by("name", "pk")
        )
        form = OverviewFilterForm(self.request.GET or None)
        community = None
        if form.is_valid() and form.cleaned_data["community"]:
            community = next(
                (c for c in communities if c.pk == form.cleaned_data["community"]), None
            )
            if community is None:
                # Not one of this organisation's communities: as if the id did not exist.
                raise Http404("No such community")
        tz = organisation_time_zone(self.organisation)
        overview = rewards_overview(
            organisation=self.organisation,
            community=community,
            tz=tz,
            now=timezone.now(),
            language=get_language() or "",
        )
        context.update(
            form=form,
            communities=communities,
            community=community,
            overview=overview,
            chart=overview_chart(months=overview.months),
            time_zone=tz,
        )
        return context


urlpatterns = [
    path("rewards/overview/", StaffRewardsOverviewView.as_view(), name="rewards_overview"),
]
