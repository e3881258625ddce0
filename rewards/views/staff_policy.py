"""Staff pages of a community's earning rules, points expiry and tiers.

Owners, admins and analysts read a community's rules (the page is their summary);
owners and admins change them and add, edit or delete tiers. Every change is audited
(rewards.services.earning).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from communities.formviews import StaffActionView, StaffFormView
from communities.models import Community
from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from communities.selectors import audit_entries
from communities.views.communities import CommunityPageMixin
from communities.views.settings import audit_rows, organisation_time_zone
from rewards.forms.policy import RewardsPolicyForm, TierForm
from rewards.models import Tier
from rewards.services.earning import (
    policy_for,
    rewards_policy_update,
    tier_create,
    tier_delete,
    tier_update,
)


def _policy_url(organisation_slug: str, community_id: int) -> str:
    return reverse("staff:rewards_policy", args=[organisation_slug, community_id])


class StaffRewardsPolicyListView(StaffScopedMixin, TemplateView):
    """The organisation's communities with their earning rules at a glance, each a link
    to its own rules page (the rewards section's tab)."""

    template_name = "rewards/staff_policy_list.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        communities = (
            Community.objects.for_organisation(self.organisation)
            .select_related("rewards_policy")
            .annotate(tier_count=Count("tiers"))
            .order_by("name", "pk")
        )
        context.update(
            communities=[
                {"community": c, "policy": getattr(c, "rewards_policy", None)} for c in communities
            ],
            tab="policy",
        )
        return context


class StaffRewardsPolicyView(CommunityPageMixin, StaffFormView):
    """One community's earning rules, expiry policy and tier basis, with its tiers."""

    template_name = "rewards/staff_policy.html"
    form_class = RewardsPolicyForm
    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)
    success_message = gettext_lazy("Earning rules saved.")

    def get_policy(self):
        if not hasattr(self, "policy"):
            self.policy = policy_for(community=self.get_community())
        return self.policy

    def get_initial(self) -> dict[str, Any]:
        return RewardsPolicyForm.initial_from(self.get_policy())

    def form_save(self, form: RewardsPolicyForm):
        return rewards_policy_update(
            community=self.get_community(), actor=self.request.user, **form.policy_fields()
        )

    def get_success_url(self) -> str:
        return _policy_url(self.organisation.slug, self.get_community().pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        policy = self.get_policy()
        context.update(
            policy=policy,
            tiers=[
                {"tier": tier, "name": tier.name_in(self.organisation.default_language)}
                for tier in Tier.objects.for_organisation(self.organisation).filter(
                    community=self.get_community()
                )
            ],
            change_rows=audit_rows(
                audit_entries(
                    organisation=self.organisation,
                    target_type="rewards_policy",
                    target_id=str(policy.pk),
                    limit=10,
                )
            )
            if policy.pk
            else [],
            time_zone=organisation_time_zone(self.organisation),
            tab="policy",
        )
        return context


class StaffTierCreateView(CommunityPageMixin, StaffFormView):
    template_name = "rewards/staff_tier_form.html"
    form_class = TierForm
    permission = staticmethod(can_manage)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "default_language": self.organisation.default_language,
        }

    def form_save(self, form: TierForm) -> Tier:
        return tier_create(
            community=self.get_community(),
            actor=self.request.user,
            names=form.names(),
            threshold=form.cleaned_data["threshold"],
            discount_percent=form.cleaned_data["discount_percent"],
        )

    def get_success_message(self, form: TierForm) -> str:
        return _("Tier “%(name)s” added.") % {
            "name": self.saved.name_in(self.organisation.default_language)
        }

    def get_success_url(self) -> str:
        return _policy_url(self.organisation.slug, self.get_community().pk)


class _TierPageMixin(StaffScopedMixin):
    """A page about one tier of the organisation (its id in the URL)."""

    model = Tier
    permission = staticmethod(can_manage)

    def scope_queryset(self, queryset: QuerySet[Tier]) -> QuerySet[Tier]:
        return queryset.select_related("community", "community__organisation")

    def get_tier(self) -> Tier:
        if not hasattr(self, "tier"):
            self.tier = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return self.tier

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tier = self.get_tier()
        context.update(tier=tier, community=tier.community)
        return context


class StaffTierEditView(_TierPageMixin, StaffFormView):
    template_name = "rewards/staff_tier_form.html"
    form_class = TierForm

    def get_initial(self) -> dict[str, Any]:
        return TierForm.initial_from(self.get_tier())

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "default_language": self.organisation.default_language,
        }

    def form_save(self, form: TierForm) -> Tier:
        return tier_update(
            tier=self.get_tier(),
            actor=self.request.user,
            names=form.names(),
            threshold=form.cleaned_data["threshold"],
            discount_percent=form.cleaned_data["discount_percent"],
        )

    def form_invalid(self, form: TierForm, status: int = 400) -> HttpResponse:
        # The page names the tier as stored, not as the refused edit had it.
        self.get_tier().refresh_from_db()
        return super().form_invalid(form, status=status)

    def get_success_message(self, form: TierForm) -> str:
        return _("Tier “%(name)s” saved.") % {
            "name": self.saved.name_in(self.organisation.default_language)
        }

    def get_success_url(self) -> str:
        return _policy_url(self.organisation.slug, self.get_tier().community_id)


class StaffTierDeleteView(StaffActionView):
    """The delete button on a tier's page; members in it are placed again at the next
    standings run."""

    model = Tier
    permission = staticmethod(can_manage)

    def scope_queryset(self, queryset: QuerySet[Tier]) -> QuerySet[Tier]:
        return queryset.select_related("community", "community__organisation")

    def act(self, tier: Tier) -> HttpResponse:
        name = tier.name_in(self.organisation.default_language)
        community_id = tier.community_id
        tier_delete(tier=tier, actor=self.request.user)
        messages.success(self.request, _("Tier “%(name)s” deleted.") % {"name": name})
        return redirect(_policy_url(self.organisation.slug, community_id))

    def refused_url(self, tier: Tier) -> str:
        return reverse("staff:tier_edit", args=[self.organisation.slug, tier.pk])


urlpatterns = [
    path("rewards/rules/", StaffRewardsPolicyListView.as_view(), name="rewards_policy_list"),
    path("rewards/rules/<int:pk>/", StaffRewardsPolicyView.as_view(), name="rewards_policy"),
    path("rewards/rules/<int:pk>/tiers/new/", StaffTierCreateView.as_view(), name="tier_create"),
    path("rewards/tiers/<int:pk>/", StaffTierEditView.as_view(), name="tier_edit"),
    path("rewards/tiers/<int:pk>/delete/", StaffTierDeleteView.as_view(), name="tier_delete"),
]
