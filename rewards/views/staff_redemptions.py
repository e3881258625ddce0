"""Staff pages of redemptions: the approval queue with bulk decisions, one redemption's
history and its actions, and the CSV of what to ship. This area's routes also serve a
member's points page (rewards.views.staff_points).

Owners, admins and analysts read the queue; only owners and admins decide, fulfil and
export (the export holds shipping addresses, which analysts never see).
Every row is fetched through the organisation, so another organisation's id answers 404 and
a foreign id ticked in the queue is refused, never acted on. Each decision on the
redemption page is written to the organisation's audit log in the same transaction as the
change; a bulk decision decides each row in its own transaction (one refusal must not undo
the rest) and logs the rows decided right after. A voucher code is never shown here: only
its member sees it, on the portal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import DetailView, TemplateView

from communities.formviews import StaffActionView
from communities.models import Organisation, User
from communities.permissions import can_manage, can_read_results
from communities.scoping import StaffScopedMixin
from communities.services import audit_record
from communities.views.settings import organisation_time_zone
from config.spreadsheet import SafeCsvWriter
from rewards.choices import REDEMPTION_OPEN, RedemptionStatus, RewardKind
from rewards.forms.redemptions import (
    FILTER_NAMES,
    RedemptionDecideForm,
    RedemptionFilterForm,
    RedemptionFulfilForm,
    RedemptionNoteForm,
)
from rewards.models import LedgerEntry, Redemption
from rewards.selectors import redemption_queue, redemptions_to_ship
from rewards.services import (
    redemption_approve,
    redemption_cancel,
    redemption_fulfil,
    redemption_reject,
    redemptions_decide,
)
from rewards.views.staff_points import REDEMPTION_SOURCE, MemberPointsView, member_label

REDEMPTIONS_PER_PAGE = 50
# How many refusals one bulk summary spells out; the rest are counted.
REFUSALS_SHOWN = 10

# The audit log's codes for this area, registered in rewards.apps (labels shown translated).
AUDIT_ACTIONS = {
    "redemption.approve": gettext_lazy("Redemption approved"),
    "redemption.reject": gettext_lazy("Redemption rejected"),
    "redemption.cancel": gettext_lazy("Redemption cancelled"),
    "redemption.fulfil": gettext_lazy("Redemption fulfilled"),
    "redemption.export": gettext_lazy("Shipping list exported"),
    "points.adjust": gettext_lazy("Points adjusted"),
}
AUDIT_TARGETS = {"redemption": Redemption, "points": LedgerEntry}
AUDIT_TARGET_LABELS = {
    "redemption": gettext_lazy("Redemption"),
    "points": gettext_lazy("Member's points"),
}


# --- the audit trail --------------------------------------------------------------------------


def _audit_redemption(
    *,
    organisation: Organisation,
    redemption: Redemption,
    actor: User,
    action: str,
    before: str,
    extra: dict | None = None,
) -> None:
    """One decision in the log: the status change and the words the member was given. The
    label names the member by number only, so the log keeps no personal data."""
    audit_record(
        organisation=organisation,
        actor=actor,
        action=action,
        target_type="redemption",
        target_id=str(redemption.pk),
        target_label=f"{redemption.reward.name} · member #{redemption.member_id}",
        changes={"status": [before, redemption.status], **(extra or {})},
    )


def _day_start(day: date, zone: tzinfo) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


# --- the queue --------------------------------------------------------------------------------


class RedemptionListView(StaffScopedMixin, TemplateView):
    """/staff/<org>/rewards/redemptions/: the queue, waiting requests first by default."""

    template_name = "rewards/staff_redemption_list.html"
    permission = staticmethod(can_read_results)

    def filter_form(self) -> RedemptionFilterForm:
        return RedemptionFilterForm.from_query(self.request.GET, organisation=self.organisation)

    def filtered(self, form: RedemptionFilterForm) -> dict[str, Any]:
        """The selector arguments of valid filters; the dates are whole days in the
        organisation's time zone, both ends included."""
        filters = form.filters()
        zone = organisation_time_zone(self.organisation)
        since, until = filters["since"], filters["until"]
        filters["since"] = _day_start(since, zone) if since else None
        filters["until"] = _day_start(until + timedelta(days=1), zone) if until else None
        return filters

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = self.filter_form()
        valid = not form.is_bound or form.is_valid()
        return self.render_to_response(
            self.get_context_data(form=form), status=200 if valid else 400
        )

    def get_context_data(self, **kwargs) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form: RedemptionFilterForm = kwargs["form"]
        valid = not form.is_bound or form.is_valid()
        rows = (
            redemption_queue(organisation=self.organisation, **self.filtered(form))
            if valid
            else Redemption.objects.none()
        )
        page = Paginator(rows, REDEMPTIONS_PER_PAGE).get_page(self.request.GET.get("page"))
        filters = form.query() if valid else {}
        status = form.filters()["status"] if valid else None
        context.update(
            page=page,
            rows=[(r, member_label(r.member)) for r in page.object_list],
            query_string=urlencode(filters),
            filters=filters,
            status=status,
            decidable=status in (None, *REDEMPTION_OPEN) if valid else False,
            can_manage=can_manage(self.role),
            export_url=reverse("staff:redemption_export", args=[self.organisation.slug])
            + (f"?{urlencode(filters)}" if filters else ""),
            decide_form=kwargs.get("decide_form") or RedemptionDecideForm(),
            time_zone=organisation_time_zone(self.organisation),
        )
        return context


def _queue_url(organisation_slug: str, data) -> str:
    """The queue with the filters the form came from (only the filters' names are kept, and
    the path is always the queue's: nothing here can send the browser elsewhere)."""
    kept = {name: data.get(name) for name in FILTER_NAMES if data.get(name)}
    url = reverse("staff:redemption_list", args=[organisation_slug])
    return f"{url}?{urlencode(kept)}" if kept else url


class RedemptionDecideView(StaffScopedMixin, View):
    """Approve or reject the ticked redemptions, each on its own: one a colleague already
    decided is reported, and the rest go ahead."""

    permission = staticmethod(can_manage)
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        back = _queue_url(self.organisation.slug, request.POST)
        form = RedemptionDecideForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
            return HttpResponseRedirect(back)
        ids: list[int] = form.cleaned_data["ids"]
        action: str = form.cleaned_data["action"]
        found = list(
            Redemption.objects.for_organisation(self.organisation)
            .filter(pk__in=ids)
            .select_related("reward", "member")
            .order_by("created_at", "pk")
        )
        before = {r.pk: r.status for r in found}
        try:
            done, refused = redemptions_decide(
                redemptions=found,
                action=action,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(back)
        with transaction.atomic():
            for redemption in done:
                _audit_redemption(
                    organisation=self.organisation,
                    redemption=redemption,
                    actor=request.user,
                    action=f"redemption.{action}",
                    before=before[redemption.pk],
                    extra={"decision_note": [None, redemption.decision_note or None]},
                )
        why = [(r.pk, message) for r, message in refused]
        why += [(pk, _("not found")) for pk in ids if pk not in before]
        self._summarise(action=action, done=len(done), refused=why)
        return HttpResponseRedirect(back)

    def _summarise(self, *, action: str, done: int, refused: list[tuple[int, str]]) -> None:
        if action == "approve":
            summary = ngettext("%(n)d approved", "%(n)d approved", done) % {"n": done}
        else:
            summary = ngettext("%(n)d rejected", "%(n)d rejected", done) % {"n": done}
        if not refused:
            messages.success(self.request, summary + ".")
            return
        reasons = "; ".join(f"#{pk}: {message}" for pk, message in refused[:REFUSALS_SHOWN])
        if len(refused) > REFUSALS_SHOWN:
            more = len(refused) - REFUSALS_SHOWN
            reasons += "; " + ngettext("%(n)d more", "%(n)d more", more) % {"n": more}
        messages.warning(
            self.request,
            ngettext(
                "%(summary)s, %(m)d could not be: %(reasons)s",
                "%(summary)s, %(m)d could not be: %(reasons)s",
                len(refused),
            )
            % {"summary": summary, "m": len(refused), "reasons": reasons},
        )


# --- one redemption ---------------------------------------------------------------------------


def redemption_history(redemption: Redemption) -> list[dict[str, Any]]:
    """The steps the redemption went through, oldest first, from what its row records."""
    steps = [
        {
            "label": _("Requested"),
            "at": redemption.created_at,
            "by": member_label(redemption.member),
            "note": ngettext("%(n)d point held", "%(n)d points held", redemption.points)
            % {"n": redemption.points},
        }
    ]
    if redemption.decided_at is not None:
        status = redemption.status
        approved = status in (RedemptionStatus.APPROVED, RedemptionStatus.FULFILLED)
        if redemption.decided_by is not None:
            by = redemption.decided_by.name or redemption.decided_by.email
        elif approved:
            by = _("Approved automatically")
        else:
            by = _("The member")
        labels = {
            RedemptionStatus.REJECTED: _("Rejected"),
            RedemptionStatus.CANCELLED: _("Cancelled"),
        }
        steps.append(
            {
                "label": _("Approved") if approved else labels.get(status, status),
                "at": redemption.decided_at,
                "by": by,
                "note": redemption.decision_note,
            }
        )
    if redemption.fulfilled_at is not None:
        steps.append(
            {
                "label": _("Fulfilled"),
                "at": redemption.fulfilled_at,
                "by": "",
                "note": redemption.tracking_note,
            }
        )
    return steps


class _RedemptionScoped(StaffScopedMixin):
    model = Redemption

    def scope_queryset(self, queryset: QuerySet[Redemption]) -> QuerySet[Redemption]:
        return queryset.select_related("member__community", "reward", "decided_by")


class RedemptionDetailView(_RedemptionScoped, DetailView):
    template_name = "rewards/staff_redemption_detail.html"
    permission = staticmethod(can_read_results)
    context_object_name = "redemption"

    def get_context_data(self, **kwargs) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        redemption: Redemption = self.object
        manager = can_manage(self.role)
        status = redemption.status
        context.update(
            member_name=member_label(redemption.member),
            history=redemption_history(redemption),
            entries=LedgerEntry.objects.for_organisation(self.organisation)
            .filter(source=f"{REDEMPTION_SOURCE}{redemption.pk}")
            .select_related("created_by")
            .order_by("created_at", "pk"),
            # Addresses are for the people who ship: owners and admins, never analysts.
            show_address=manager and redemption.reward.kind == RewardKind.PHYSICAL,
            can_manage=manager,
            can_approve=manager and status == RedemptionStatus.REQUESTED,
            can_reject=manager and status in REDEMPTION_OPEN,
            can_cancel=manager and status in REDEMPTION_OPEN,
            can_fulfil=manager and status == RedemptionStatus.APPROVED,
            note_form=RedemptionNoteForm(),
            fulfil_form=RedemptionFulfilForm(),
            time_zone=organisation_time_zone(self.organisation),
        )
        return context


class _RedemptionActionView(_RedemptionScoped, StaffActionView):
    """One button of the redemption page: validate its form, call the one service and log
    the change in the same transaction, go back to the page (a refusal is flashed there)."""

    permission = staticmethod(can_manage)
    form_class: type | None = None
    action = ""

    def act(self, redemption: Redemption) -> HttpResponse:
        form = self.form_class(self.request.POST) if self.form_class else None
        if form is not None and not form.is_valid():
            raise ValidationError([m for errors in form.errors.values() for m in errors])
        data = form.cleaned_data if form is not None else {}
        before = redemption.status
        with transaction.atomic():
            done = self.decide(redemption, data)
            _audit_redemption(
                organisation=self.organisation,
                redemption=done,
                actor=self.request.user,
                action=f"redemption.{self.action}",
                before=before,
                extra=self.audited(done),
            )
        messages.success(self.request, self.success_message(done))
        return redirect(self.refused_url(redemption))

    def decide(self, redemption: Redemption, data: dict[str, Any]) -> Redemption:
        raise NotImplementedError

    def audited(self, redemption: Redemption) -> dict[str, list]:
        return {"decision_note": [None, redemption.decision_note or None]}

    def success_message(self, redemption: Redemption) -> str:
        return _("Redemption #%(id)s is now %(status)s.") % {
            "id": redemption.pk,
            "status": redemption.get_status_display().lower(),
        }

    def refused_url(self, redemption: Redemption) -> str:
        return reverse("staff:redemption_detail", args=[self.organisation.slug, redemption.pk])


class RedemptionApproveView(_RedemptionActionView):
    action = "approve"

    def decide(self, redemption: Redemption, data: dict[str, Any]) -> Redemption:
        return redemption_approve(redemption=redemption, actor=self.request.user)

    def audited(self, redemption: Redemption) -> dict[str, list]:
        return {}


class RedemptionRejectView(_RedemptionActionView):
    action = "reject"
    form_class = RedemptionNoteForm

    def decide(self, redemption: Redemption, data: dict[str, Any]) -> Redemption:
        return redemption_reject(
            redemption=redemption, actor=self.request.user, reason=data["reason"]
        )


class RedemptionCancelView(_RedemptionActionView):
    action = "cancel"
    form_class = RedemptionNoteForm

    def decide(self, redemption: Redemption, data: dict[str, Any]) -> Redemption:
        return redemption_cancel(
            redemption=redemption, actor=self.request.user, reason=data["reason"]
        )


class RedemptionFulfilView(_RedemptionActionView):
    action = "fulfil"
    form_class = RedemptionFulfilForm

    def decide(self, redemption: Redemption, data: dict[str, Any]) -> Redemption:
        return redemption_fulfil(
            redemption=redemption,
            actor=self.request.user,
            tracking_note=data["tracking_note"],
        )

    def audited(self, redemption: Redemption) -> dict[str, list]:
        return {"tracking_note": [None, redemption.tracking_note or None]}


# --- what to ship -----------------------------------------------------------------------------


class _Echo:
    """A file that hands back what is written, so csv rows can be streamed as they come."""

    def write(self, value: str) -> str:
        return value


class RedemptionExportView(RedemptionListView):
    """/staff/<org>/rewards/redemptions/shipping.csv: approved physical items not yet sent,
    with the queue's reward, community and date filters, streamed. It holds addresses, so
    owners and admins only, and the export itself goes into the audit log."""

    permission = staticmethod(can_manage)

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = self.filter_form()
        if form.is_bound and not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        filters = self.filtered(form)
        rows = redemptions_to_ship(
            organisation=self.organisation,
            reward=filters["reward"],
            community=filters["community"],
            since=filters["since"],
            until=filters["until"],
        )
        audit_record(
            organisation=self.organisation,
            actor=request.user,
            action="redemption.export",
            target_type="redemption",
            target_label=", ".join(f"{k}={v}" for k, v in form.query().items()),
        )
        zone = organisation_time_zone(self.organisation)
        response = StreamingHttpResponse(
            _shipping_lines(rows, zone=zone, language=translation.get_language()),
            content_type="text/csv; charset=utf-8",
        )
        day = timezone.localtime(timezone.now(), zone).date().isoformat()
        response["Content-Disposition"] = (
            f'attachment; filename="to-ship-{self.organisation.slug}-{day}.csv"'
        )
        response["Cache-Control"] = "no-store"
        return response


def _shipping_lines(
    rows: QuerySet[Redemption], *, zone: tzinfo, language: str | None
) -> Iterator[str]:
    """The CSV a line at a time; every cell through SafeCsvWriter, so a name or address
    typed as a formula stays text in the spreadsheet."""
    writer = SafeCsvWriter(_Echo())
    with translation.override(language):
        header = [
            _("Redemption"),
            _("Member"),
            _("Email"),
            _("Shipping address"),
            _("Reward"),
            _("Community"),
            _("Requested"),
            _("Approved"),
        ]
    # A byte-order mark, so spreadsheets read the file as UTF-8 (Thai, Hebrew, Japanese).
    yield "\ufeff" + writer.writerow(header)
    for redemption in rows.iterator(chunk_size=500):
        member = redemption.member
        erased = member.is_erased or member.erased_at is not None
        with translation.override(language):
            name = member_label(member) if erased else member.name
        yield writer.writerow(
            [
                redemption.pk,
                name,
                "" if erased else member.email,
                "" if erased else redemption.shipping_address,
                redemption.reward.name,
                member.community.name,
                redemption.created_at.astimezone(zone).isoformat(timespec="seconds"),
                redemption.decided_at.astimezone(zone).isoformat(timespec="seconds")
                if redemption.decided_at
                else "",
            ]
        )


urlpatterns = [
    path("rewards/redemptions/", RedemptionListView.as_view(), name="redemption_list"),
    path("rewards/redemptions/decide/", RedemptionDecideView.as_view(), name="redemption_decide"),
    path(
        "rewards/redemptions/shipping.csv",
        RedemptionExportView.as_view(),
        name="redemption_export",
    ),
    path("rewards/redemptions/<int:pk>/", RedemptionDetailView.as_view(), name="redemption_detail"),
    path(
        "rewards/redemptions/<int:pk>/approve/",
        RedemptionApproveView.as_view(),
        name="redemption_approve",
    ),
    path(
        "rewards/redemptions/<int:pk>/reject/",
        RedemptionRejectView.as_view(),
        name="redemption_reject",
    ),
    path(
        "rewards/redemptions/<int:pk>/cancel/",
        RedemptionCancelView.as_view(),
        name="redemption_cancel",
    ),
    path(
        "rewards/redemptions/<int:pk>/fulfil/",
        RedemptionFulfilView.as_view(),
        name="redemption_fulfil",
    ),
    path("rewards/members/<int:pk>/points/", MemberPointsView.as_view(), name="member_points"),
]
