"""Staff pages of the reward catalogue: the list, a new reward, editing one, offering or
withdrawing it, and a voucher reward's code uploads with their per-row reports.

Owners, admins and analysts read the list and the uploads; owners and admins change
anything. Voucher codes never appear on these pages: counts, row numbers and each code's
last characters only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView

from communities.formviews import StaffActionView, StaffFormView, StaffObjectFormView
from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from communities.selectors import audit_entries
from communities.views.settings import audit_rows, organisation_time_zone
from config.ratelimit import rate_limited
from rewards.choices import RewardKind
from rewards.forms.catalogue import RewardFilterForm, RewardForm, VoucherUploadForm
from rewards.models import Reward, VoucherUpload
from rewards.selectors import reward_list, voucher_pool_counts, voucher_uploads
from rewards.services.catalogue import (
    reward_active_set,
    reward_create,
    reward_image_max_bytes,
    reward_update,
    size_text,
)
from rewards.services.vouchers import VOUCHER_OUTCOMES, voucher_codes_upload

REPORT_ROWS_PER_PAGE = 100
# Code files per organisation per hour: plenty for real work, a wall against a script.
VOUCHER_UPLOADS_PER_HOUR = 30


class StaffRewardListView(StaffScopedMixin, TemplateView):
    """The organisation's catalogue, by community, with what is left of each reward."""

    template_name = "rewards/staff_reward_list.html"
    permission = staticmethod(can_read_results)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = RewardFilterForm(self.request.GET or None, organisation=self.organisation)
        context.update(
            form=form,
            rewards=list(reward_list(organisation=self.organisation, **form.filters())),
            can_manage=can_manage(self.role),
            time_zone=organisation_time_zone(self.organisation),
            tab="catalogue",
        )
        return context


class _RewardFormMixin:
    form_class = RewardForm
    template_name = "rewards/staff_reward_form.html"
    permission = staticmethod(can_manage)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "organisation": self.organisation,
            "time_zone": organisation_time_zone(self.organisation),
            "reward": getattr(self, "object", None),
        }

    def get_success_url(self) -> str:
        if self.saved.kind == RewardKind.VOUCHER and not self.saved.codes.exists():
            return reverse("staff:voucher_upload", args=[self.organisation.slug, self.saved.pk])
        return reverse("staff:reward_list", args=[self.organisation.slug])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            tab="catalogue",
            time_zone=organisation_time_zone(self.organisation),
            image_max_text=size_text(reward_image_max_bytes()),
        )
        return context


class StaffRewardCreateView(_RewardFormMixin, StaffFormView):
    def form_save(self, form: RewardForm) -> Reward:
        return reward_create(
            organisation=self.organisation, actor=self.request.user, **form.reward_fields()
        )

    def get_success_message(self, form: RewardForm) -> str:
        if self.saved.kind == RewardKind.VOUCHER:
            return _("Reward “%(name)s” created. Upload its codes so members can redeem it.") % {
                "name": self.saved.name
            }
        return _("Reward “%(name)s” created.") % {"name": self.saved.name}


class StaffRewardEditView(_RewardFormMixin, StaffObjectFormView):
    model = Reward
    context_object_name = "reward"

    def scope_queryset(self, queryset: QuerySet[Reward]) -> QuerySet[Reward]:
        return queryset.select_related("community")

    def get_initial(self) -> dict[str, Any]:
        return RewardForm.initial_from(self.object)

    def form_save(self, form: RewardForm) -> Reward:
        return reward_update(
            reward=self.object,
            actor=self.request.user,
            image_clear=form.cleaned_data.get("image_clear", False),
            **form.reward_fields(),
        )

    def get_success_message(self, form: RewardForm) -> str:
        return _("Reward “%(name)s” saved.") % {"name": self.saved.name}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["change_rows"] = audit_rows(
            audit_entries(
                organisation=self.organisation,
                target_type="reward",
                target_id=str(self.object.pk),
                limit=10,
            )
        )
        return context


class StaffRewardToggleView(StaffActionView):
    """Offer a reward again or withdraw it; the form says which, so a double click or a
    stale page does what the button said."""

    model = Reward
    permission = staticmethod(can_manage)

    def refused_url(self, reward: Reward) -> str:
        return reverse("staff:reward_list", args=[self.organisation.slug])

    def act(self, reward: Reward) -> HttpResponse:
        wanted = self.request.POST.get("active")
        if wanted not in ("0", "1"):
            raise ValidationError(_("Choose whether to offer the reward or withdraw it."))
        reward = reward_active_set(reward=reward, actor=self.request.user, active=wanted == "1")
        if reward.active:
            messages.success(
                self.request, _("“%(name)s” is offered to members.") % {"name": reward.name}
            )
        else:
            messages.success(
                self.request,
                _("“%(name)s” is withdrawn: members no longer see it; requests already made go on.")
                % {"name": reward.name},
            )
        return redirect(self.refused_url(reward))


class StaffVoucherUploadView(StaffObjectFormView):
    """A voucher reward's codes: how many are left, the upload form, the past uploads."""

    template_name = "rewards/staff_voucher_upload.html"
    model = Reward
    context_object_name = "reward"
    form_class = VoucherUploadForm
    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)

    def scope_queryset(self, queryset: QuerySet[Reward]) -> QuerySet[Reward]:
        return queryset.filter(kind=RewardKind.VOUCHER).select_related("community")

    def form_save(self, form: VoucherUploadForm) -> VoucherUpload:
        if rate_limited(
            scope="voucher-upload",
            key=str(self.organisation.pk),
            limit=VOUCHER_UPLOADS_PER_HOUR,
            window=3600,
        ):
            raise ValidationError(
                _("This organisation uploaded %(n)d files in the last hour. Try again later.")
                % {"n": VOUCHER_UPLOADS_PER_HOUR},
                code="rate_limited",
            )
        upload = form.cleaned_data["file"]
        return voucher_codes_upload(
            reward=self.object, actor=self.request.user, filename=upload.name, data=upload.read()
        )

    service_error_statuses = {"rate_limited": 429}

    def get_success_message(self, form: VoucherUploadForm) -> str:
        return _("%(added)d codes added, %(refused)d rows refused.") % {
            "added": self.saved.added,
            "refused": self.saved.refused,
        }

    def get_success_url(self) -> str:
        return reverse("staff:voucher_upload_detail", args=[self.organisation.slug, self.saved.pk])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            counts=voucher_pool_counts(organisation=self.organisation, reward=self.object),
            uploads=voucher_uploads(organisation=self.organisation, reward=self.object)[:20],
            can_manage=can_manage(self.role),
            time_zone=organisation_time_zone(self.organisation),
            tab="catalogue",
        )
        return context


class StaffVoucherUploadDetailView(StaffScopedMixin, DetailView):
    """One upload's report, row by row: the outcome and the code's last characters."""

    template_name = "rewards/staff_voucher_upload_detail.html"
    model = VoucherUpload
    context_object_name = "upload"
    permission = staticmethod(can_read_results)

    def scope_queryset(self, queryset: QuerySet[VoucherUpload]) -> QuerySet[VoucherUpload]:
        return queryset.select_related("reward", "uploaded_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        problems_only = self.request.GET.get("show") == "problems"
        rows = [
            {
                **entry,
                "outcome_label": str(VOUCHER_OUTCOMES.get(entry["outcome"], entry["outcome"])),
            }
            for entry in self.object.report
            if not problems_only or entry["outcome"] != "added"
        ]
        context.update(
            rows=Paginator(rows, REPORT_ROWS_PER_PAGE).get_page(self.request.GET.get("page")),
            problems_only=problems_only,
            time_zone=organisation_time_zone(self.organisation),
            tab="catalogue",
        )
        return context


urlpatterns: list = [
    path("rewards/", StaffRewardListView.as_view(), name="reward_list"),
    path("rewards/new/", StaffRewardCreateView.as_view(), name="reward_create"),
    path("rewards/<int:pk>/edit/", StaffRewardEditView.as_view(), name="reward_edit"),
    path("rewards/<int:pk>/active/", StaffRewardToggleView.as_view(), name="reward_toggle"),
    path("rewards/<int:pk>/codes/", StaffVoucherUploadView.as_view(), name="voucher_upload"),
    path(
        "rewards/code-uploads/<int:pk>/",
        StaffVoucherUploadDetailView.as_view(),
        name="voucher_upload_detail",
    ),
]
