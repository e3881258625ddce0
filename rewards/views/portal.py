"""The member's rewards pages under /c/<org>/<community>/rewards/ (namespace "community"):
the catalogue, redeeming one reward, their redemptions (and voucher codes), and their
points history with tier and badges.

Only a signed-in, current member of this community reaches them (MemberRequiredMixin:
a visitor is sent to sign in, anyone else to the community home), and every row is read
through the member: another member's redemption, or another organisation's reward, is 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.services import MEMBER_CURRENT_STATUSES
from communities.views.member_pages import MemberRequiredMixin, community_brand
from rewards.choices import RedemptionStatus
from rewards.forms.portal import RedeemForm, redeem_token_new
from rewards.models import Redemption, Reward
from rewards.selectors import (
    CatalogueItem,
    LedgerPages,
    ledger_lines,
    member_balance,
    member_catalogue,
    member_catalogue_item,
    member_redemptions,
    member_summary,
    redemption_rows,
)
from rewards.services import (
    REFUSALS,
    RedemptionRefused,
    redemption_cancel,
    redemption_request,
    reward_availability,
)

REDEMPTIONS_PER_PAGE = 20
LEDGER_PER_PAGE = 25
# Refusals that are about the address the member typed: shown beside that field.
ADDRESS_REFUSALS = ("address_required", "address_too_long", "address_invalid")


class RewardsPageMixin(MemberRequiredMixin):
    """A member's rewards page: rendered with the same context as every member page."""

    def rewards_page(
        self, template: str, context: dict[str, Any] | None = None, status: int = 200
    ) -> HttpResponse:
        return render(
            self.request,
            f"rewards/{template}",
            {
                "community": self.community,
                "organisation": self.organisation,
                "brand": community_brand(community=self.community),
                "member": self.member,
                "is_current_member": self.member.status in MEMBER_CURRENT_STATUSES,
                "languages": settings.LANGUAGES,
                **(context or {}),
            },
            status=status,
        )

    def rewards_url(self, name: str) -> str:
        base = reverse(f"community:{name}", args=[self.organisation.slug, self.community.slug])
        return f"{base}?lang={self.language}"


class CatalogueView(RewardsPageMixin):
    def member_get(self, request: HttpRequest) -> HttpResponse:
        summary = member_summary(member=self.member, language=self.language)
        return self.rewards_page(
            "portal_catalogue.html",
            {
                "balance": summary.balance,
                "items": member_catalogue(
                    member=self.member,
                    language=self.language,
                    balance=summary.balance,
                    now=timezone.now(),
                    discount_percent=summary.loyalty.discount_percent,
                ),
                "loyalty": summary.loyalty,
            },
        )


class RedeemView(RewardsPageMixin):
    """Confirm a reward: what it costs, the balance after, the address for a parcel. The
    POST asks rewards.services.redemption_request with a key made of the form's one-time
    token, so a second press (or a reload) finds the first redemption instead of a new one.
    """

    def _item(self) -> tuple[CatalogueItem, int]:
        balance = member_balance(member=self.member)
        try:
            item = member_catalogue_item(
                member=self.member,
                pk=self.kwargs["pk"],
                language=self.language,
                balance=balance,
            )
        except Reward.DoesNotExist as exc:
            raise Http404 from exc
        return item, balance

    def _render(
        self,
        item: CatalogueItem,
        balance: int,
        form: RedeemForm,
        token: str,
        *,
        status: int = 200,
        refused: str = "",
    ) -> HttpResponse:
        unavailable = reward_availability(
            reward=item.reward, member=self.member, now=timezone.now()
        )
        return self.rewards_page(
            "portal_redeem.html",
            {
                "item": item,
                "balance": balance,
                "balance_after": balance - item.cost,
                "form": form,
                "token": token,
                "refused": refused,
                "unavailable": str(REFUSALS[unavailable]()) if unavailable else "",
            },
            status=status,
        )

    def member_get(self, request: HttpRequest) -> HttpResponse:
        item, balance = self._item()
        return self._render(item, balance, RedeemForm(kind=item.reward.kind), redeem_token_new())

    def member_post(self, request: HttpRequest) -> HttpResponse:
        item, balance = self._item()
        form = RedeemForm(request.POST, kind=item.reward.kind)
        if not form.is_valid():
            # A token that did not come from this site is replaced: the next press counts.
            token = form.cleaned_data.get("token") or redeem_token_new()
            return self._render(item, balance, form, token, status=400)
        token = form.cleaned_data["token"]
        try:
            redemption = redemption_request(
                member=self.member,
                reward=item.reward,
                request_key=f"{self.member.pk}-{item.reward.pk}-{token}",
                shipping_address=form.cleaned_data.get("shipping_address", ""),
            )
        except RedemptionRefused as exc:
            message = " ".join(exc.messages)
            if exc.code in ADDRESS_REFUSALS and "shipping_address" in form.fields:
                form.add_error("shipping_address", message)
                message = ""
            return self._render(item, balance, form, token, status=400, refused=message)
        messages.success(request, self._success(redemption, item.name))
        return redirect(self.rewards_url("redemptions"))

    @staticmethod
    def _success(redemption: Redemption, name: str) -> str:
        if redemption.status == RedemptionStatus.REQUESTED:
            return _(
                "Your request for %(reward)s is in: %(points)s points are held until it is "
                "approved. We will email you."
            ) % {"reward": name, "points": redemption.points}
        return _("%(reward)s is yours: %(points)s points were spent.") % {
            "reward": name,
            "points": redemption.points,
        }


class RedemptionsView(RewardsPageMixin):
    def member_get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(member_redemptions(member=self.member), REDEMPTIONS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        return self.rewards_page(
            "portal_redemptions.html",
            {
                "page": page,
                "rows": redemption_rows(page.object_list, language=self.language),
                "balance": member_balance(member=self.member),
                "query_string": f"lang={self.language}",
            },
        )


class RedemptionCancelView(RewardsPageMixin):
    """Withdraw a request still waiting for approval: the points (and the item) go back."""

    http_method_names = ["post"]

    def member_post(self, request: HttpRequest) -> HttpResponse:
        redemption = member_redemptions(member=self.member).filter(pk=self.kwargs["pk"]).first()
        if redemption is None:
            raise Http404
        try:
            redemption = redemption_cancel(redemption=redemption, actor=None)
        except RedemptionRefused as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("Cancelled: %(points)s points are back in your balance.")
                % {"points": redemption.points},
            )
        return redirect(self.rewards_url("redemptions"))


class PointsHistoryView(RewardsPageMixin):
    def member_get(self, request: HttpRequest) -> HttpResponse:
        summary = member_summary(member=self.member, language=self.language)
        entries = LedgerPages(member=self.member, entries=summary.entries)
        page = Paginator(entries, LEDGER_PER_PAGE).get_page(request.GET.get("page"))
        return self.rewards_page(
            "portal_points.html",
            {
                "page": page,
                "lines": ledger_lines(entries=page.object_list, language=self.language),
                "balance": summary.balance,
                "loyalty": summary.loyalty,
                "query_string": f"lang={self.language}",
            },
        )


_C = "c/<slug:org>/<slug:community>/"
urlpatterns: list = [
    path(f"{_C}rewards/", CatalogueView.as_view(), name="rewards"),
    path(f"{_C}rewards/<int:pk>/redeem/", RedeemView.as_view(), name="reward_redeem"),
    path(f"{_C}rewards/redemptions/", RedemptionsView.as_view(), name="redemptions"),
    path(
        f"{_C}rewards/redemptions/<int:pk>/cancel/",
        RedemptionCancelView.as_view(),
        name="redemption_cancel",
    ),
    path(f"{_C}rewards/points/", PointsHistoryView.as_view(), name="points_history"),
]
