"""A member's points on the staff side: the whole ledger, each line explained, the
balance, and the adjustment owners and admins make with the reason the member reads.

The form carries a fresh token; the adjustment's idempotency key is made of it and the
member, so the same form sent twice (a double click, a resent POST) adjusts once. Each
adjustment is written to the organisation's audit log in the same transaction.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from communities.formviews import StaffFormView
from communities.models import Member
from communities.permissions import can_manage, can_read_results
from communities.services import audit_record
from communities.views.settings import organisation_time_zone
from rewards.choices import LedgerReason
from rewards.forms.redemptions import TOKEN_PATTERN, PointsAdjustForm, adjust_token
from rewards.models import LedgerEntry
from rewards.selectors import member_balance, staff_member_ledger
from rewards.services import InsufficientPoints, points_adjust

ENTRIES_PER_PAGE = 50
REDEMPTION_SOURCE = "rewards.redemption:"


def member_label(member: Member) -> str:
    """How staff pages name a member: their name or email, or for an erased member a marker
    that holds nothing of them."""
    if member.is_erased or member.erased_at is not None:
        return _("Erased member #%(id)s") % {"id": member.pk}
    return member.name or member.email


def ledger_row(entry: LedgerEntry) -> dict[str, Any]:
    """One ledger line as staff read it: the reason, what it was for, who made it."""
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    redemption_id = None
    if entry.source.startswith(REDEMPTION_SOURCE):
        tail = entry.source[len(REDEMPTION_SOURCE) :]
        redemption_id = int(tail) if tail.isdigit() else None
    by = ""
    if entry.created_by is not None:
        by = entry.created_by.name or entry.created_by.email
    elif entry.reason == LedgerReason.ADJUSTMENT:
        by = _("(unknown)")
    return {
        "entry": entry,
        "reason": entry.get_reason_display(),
        "title": str(detail.get("title") or ""),
        "note": str(detail.get("note") or ""),
        "by": by,
        "redemption_id": redemption_id,
    }


class MemberPointsView(StaffFormView):
    """/staff/<org>/rewards/members/<pk>/points/: the member's whole ledger and balance;
    owners and admins add or take away points here, with the reason the member reads."""

    template_name = "rewards/staff_member_points.html"
    permission = staticmethod(can_read_results)
    write_permission = staticmethod(can_manage)
    form_class = PointsAdjustForm
    # The service names the reason "note"; the form calls it what the page does.
    service_field_map = {"note": "reason"}

    def get_member(self) -> Member:
        if not hasattr(self, "member"):
            self.member = get_object_or_404(
                Member.objects.for_organisation(self.organisation).select_related("community"),
                pk=self.kwargs["pk"],
            )
        return self.member

    def get_form(self, form_class=None) -> PointsAdjustForm | None:
        # Readers see the ledger without the form.
        return super().get_form(form_class) if can_manage(self.role) else None

    def get_initial(self) -> dict[str, Any]:
        return {"token": adjust_token()}

    def get_context_data(self, **kwargs) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        member = self.get_member()
        form = context.get("form")
        entries = staff_member_ledger(organisation=self.organisation, member=member)
        page = Paginator(entries, ENTRIES_PER_PAGE).get_page(self.request.GET.get("page"))
        token = ""
        if form is not None:
            sent = form["token"].value() or ""
            # A refused form keeps its token (sent again, it still adjusts once); a missing
            # or mangled one is replaced, so the form can be sent at all.
            token = sent if re.fullmatch(TOKEN_PATTERN, sent) else adjust_token()
        erased = member.is_erased or member.erased_at is not None
        context.update(
            member=member,
            member_name=member_label(member),
            erased=erased,
            community=member.community,
            balance=member_balance(member=member),
            page=page,
            rows=[ledger_row(entry) for entry in page.object_list],
            query_string="",
            token=token,
            can_manage=can_manage(self.role),
            time_zone=organisation_time_zone(self.organisation),
        )
        return context

    def form_save(self, form: PointsAdjustForm) -> LedgerEntry:
        member = self.get_member()
        if member.is_erased or member.erased_at is not None:
            raise ValidationError(_("This member was erased: their points cannot be adjusted."))
        points = form.cleaned_data["points"]
        try:
            with transaction.atomic():
                before = member_balance(member=member)
                entry, self.created = points_adjust(
                    member=member,
                    points=points,
                    note=form.cleaned_data["reason"],
                    actor=self.request.user,
                    idempotency_key=f"staff-adjust:{member.pk}:{form.cleaned_data['token']}",
                )
                if self.created:
                    audit_record(
                        organisation=self.organisation,
                        actor=self.request.user,
                        action="points.adjust",
                        target_type="points",
                        target_id=str(member.pk),
                        target_label=f"member #{member.pk}",
                        changes={
                            "points": [before, before + entry.points],
                            "reason": [None, entry.detail.get("note")],
                        },
                    )
        except InsufficientPoints as exc:
            raise ValidationError(
                {
                    "points": _(
                        "That would take the balance below zero: the member has %(balance)d points."
                    )
                    % {"balance": member_balance(member=member)}
                }
            ) from exc
        return entry

    def get_success_message(self, form: PointsAdjustForm) -> str:
        if not self.created:
            return _("This adjustment was already made; it was not made twice.")
        points = self.saved.points
        if points > 0:
            return ngettext("Added %(n)d point.", "Added %(n)d points.", points) % {"n": points}
        return ngettext("Took away %(n)d point.", "Took away %(n)d points.", -points) % {
            "n": -points
        }

    def get_success_url(self) -> str:
        return reverse("staff:member_points", args=[self.organisation.slug, self.get_member().pk])
