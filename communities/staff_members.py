"""Staff pages for a community's members: the list, one member, add and invite, CSV
imports and segments.

Every view inherits StaffScopedMixin and fetches through the organisation, so another
organisation's community, member, import or segment id answers 404. Owners, admins and
analysts may read; only owners and admins may change anything.
"""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.db.models.functions import Substr
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from communities import flows
from communities.choices import ImportStatus, MemberStatus
from communities.forms import (
    MemberAddForm,
    MemberEditForm,
    MemberFilterForm,
    MemberImportForm,
    MemberInviteForm,
    SegmentForm,
    attribute_display,
    attribute_label,
)
from communities.models import Community, Member, MemberImport, Segment
from communities.permissions import can_manage, can_read_results
from communities.selectors import (
    community_members,
    member_status_counts,
    members_matching,
    segment_counts,
)
from communities.services import (
    community_attributes,
    member_create,
    member_import_confirm,
    member_import_create,
    member_import_preview,
    member_import_progress_key,
    member_update,
    segment_create,
    segment_delete,
    segment_filter_clean,
    segment_update,
)
from communities.views import StaffScopedMixin
from config.ratelimit import rate_limited

MEMBERS_PER_PAGE = 50
IMPORT_ERRORS_PER_PAGE = 100
# Uploads per organisation per hour: plenty for real work, a wall against a script.
IMPORT_UPLOADS_PER_HOUR = 10
SORTS = {
    "joined": F("joined_at").desc(nulls_last=True),
    "-joined": F("joined_at").asc(nulls_last=True),
    "active": F("last_active_at").desc(nulls_last=True),
    "-active": F("last_active_at").asc(nulls_last=True),
    "name": F("name").asc(),
}
# The page's text of an import's whole file is not needed: its head is enough for a preview.
PREVIEW_HEAD_CHARS = 200_000


class _CommunityPage(StaffScopedMixin, TemplateView):
    """A page about one community of the organisation (its id in the URL)."""

    permission = staticmethod(can_read_results)

    def get_community(self) -> Community:
        if not hasattr(self, "community"):
            self.community = get_object_or_404(
                Community.objects.for_organisation(self.organisation).select_related(
                    "organisation"
                ),
                pk=self.kwargs["pk"],
            )
        return self.community

    def require_manage(self) -> None:
        if not can_manage(self.role):
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(community=self.get_community(), can_manage=can_manage(self.role))
        return context


# --- the member list and one member ---------------------------------------------------------


class MemberListView(_CommunityPage):
    template_name = "communities/staff_member_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        community = self.get_community()
        definitions = community_attributes(community=community)
        segments = list(
            Segment.objects.for_organisation(self.organisation).filter(community=community)
        )
        query = self.request.GET
        form = MemberFilterForm(query or None, definitions=definitions)
        segment = None
        if query.get("segment"):
            segment = next((s for s in segments if str(s.pk) == query["segment"]), None)
            if segment is None:
                form.add_error(None, _("That segment does not exist."))
        members = community_members(community=community).none()
        if form.is_bound and form.is_valid() and not form.errors:
            try:
                clean = segment_filter_clean(
                    community=community, filter=form.filter(), definitions=definitions
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                members = members_matching(community=community, filter=clean)
                if segment is not None:
                    members = members & members_matching(community=community, filter=segment.filter)
        elif not form.is_bound:
            members = community_members(community=community)
        sort = query.get("sort") if query.get("sort") in SORTS else "joined"
        members = members.order_by(SORTS[sort], "-pk").only(
            "pk", "email", "name", "status", "attributes", "joined_at", "last_active_at"
        )
        page = Paginator(members, MEMBERS_PER_PAGE).get_page(query.get("page"))
        keep = query.copy()
        keep.pop("page", None)
        keep_sort = keep.copy()
        keep_sort.pop("sort", None)
        context.update(
            form=form,
            segments=segments,
            segment=segment,
            page=page,
            rows=[
                (member, [attribute_display(d, member.attributes.get(d.key)) for d in definitions])
                for member in page.object_list
            ],
            definitions=[(d, attribute_label(d)) for d in definitions],
            status_counts=self._status_counts(community),
            sort=sort,
            query_string=keep.urlencode(),
            sort_query_string=keep_sort.urlencode(),
        )
        return context

    def _status_counts(self, community):
        counts = member_status_counts(community=community)
        return {
            "total": sum(counts.values()),
            "by_status": [
                (label, counts[value]) for value, label in MemberStatus.choices if value in counts
            ],
        }


class MemberDetailView(StaffScopedMixin, TemplateView):
    template_name = "communities/staff_member_detail.html"
    permission = staticmethod(can_read_results)

    def get_member(self) -> Member:
        if not hasattr(self, "member"):
            self.member = get_object_or_404(
                Member.objects.for_organisation(self.organisation)
                .filter(erased_at__isnull=True)
                .exclude(status=MemberStatus.ERASED)
                .select_related("community__organisation", "referred_by"),
                pk=self.kwargs["pk"],
            )
        return self.member

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member = self.get_member()
        definitions = community_attributes(community=member.community)
        context.update(
            member=member,
            community=member.community,
            overview=flows.member_overview(organisation=self.organisation, member=member),
            attributes=[
                (attribute_label(d), attribute_display(d, member.attributes.get(d.key)))
                for d in definitions
            ],
            can_manage=can_manage(self.role),
        )
        if can_manage(self.role):
            context.setdefault("form", MemberEditForm(member=member, definitions=definitions))
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_manage(self.role):
            raise PermissionDenied
        member = self.get_member()
        definitions = community_attributes(community=member.community)
        form = MemberEditForm(request.POST, member=member, definitions=definitions)
        if form.is_valid():
            try:
                member_update(
                    member=member,
                    name=form.cleaned_data["name"],
                    locale=form.cleaned_data["locale"],
                    attributes=form.attribute_values(),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Member saved."))
                return redirect("staff:member_detail", self.organisation.slug, member.pk)
        member.refresh_from_db()
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- add and invite one person --------------------------------------------------------------


class MemberAddView(_CommunityPage):
    template_name = "communities/staff_member_add.html"
    permission = staticmethod(can_manage)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault(
            "form",
            MemberAddForm(
                community=self.community,
                definitions=community_attributes(community=self.community),
            ),
        )
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        community = self.get_community()
        form = MemberAddForm(
            request.POST,
            community=community,
            definitions=community_attributes(community=community),
        )
        if form.is_valid():
            try:
                member = member_create(
                    community=community,
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    locale=form.cleaned_data["locale"],
                    attributes=form.attribute_values(),
                    consent_channel="staff",
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("%(email)s is now a member.") % {"email": member.email})
                return redirect("staff:member_detail", self.organisation.slug, member.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class MemberInviteView(_CommunityPage):
    template_name = "communities/staff_member_invite.html"
    permission = staticmethod(can_manage)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", MemberInviteForm(community=self.community))
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        community = self.get_community()
        form = MemberInviteForm(request.POST, community=community)
        if form.is_valid():
            if rate_limited(
                scope="member-invite", key=str(self.organisation.pk), limit=200, window=3600
            ):
                form.add_error(None, _("Too many invitations in the last hour. Try again later."))
                return self.render_to_response(self.get_context_data(form=form), status=429)
            try:
                member = flows.member_invite(
                    community=community,
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    locale=form.cleaned_data["locale"],
                    invited_by=request.user,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, texts in exc.message_dict.items():
                        for text in texts:
                            form.add_error(field if field in form.fields else None, text)
                else:
                    for text in exc.messages:
                        form.add_error(None, text)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": member.email},
                )
                return redirect("staff:member_detail", self.organisation.slug, member.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- CSV import -----------------------------------------------------------------------------


class MemberImportCreateView(_CommunityPage):
    template_name = "communities/staff_member_import.html"
    permission = staticmethod(can_manage)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", MemberImportForm())
        context["imports"] = (
            MemberImport.objects.for_organisation(self.organisation)
            .filter(community=self.community)
            .defer("content", "errors")
            .select_related("created_by")[:10]
        )
        context["attribute_keys"] = [d.key for d in community_attributes(community=self.community)]
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        community = self.get_community()
        form = MemberImportForm(request.POST, request.FILES)
        if form.is_valid():
            if rate_limited(
                scope="member-import",
                key=str(self.organisation.pk),
                limit=IMPORT_UPLOADS_PER_HOUR,
                window=3600,
            ):
                form.add_error(
                    None,
                    _("This organisation uploaded %(n)d files in the last hour. Try again later.")
                    % {"n": IMPORT_UPLOADS_PER_HOUR},
                )
                return self.render_to_response(self.get_context_data(form=form), status=429)
            upload = form.cleaned_data["file"]
            try:
                member_import = member_import_create(
                    community=community,
                    filename=upload.name,
                    data=upload.read(),
                    consent_confirmed=form.cleaned_data["consent_confirmed"],
                    created_by=request.user,
                )
            except ValidationError as exc:
                for field, texts in exc.message_dict.items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
            else:
                return redirect(
                    "staff:member_import_detail", self.organisation.slug, member_import.pk
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class _ImportPage(StaffScopedMixin, View):
    permission = staticmethod(can_manage)

    def get_import(self, *, with_content: bool = False) -> MemberImport:
        imports = MemberImport.objects.for_organisation(self.organisation).select_related(
            "community__organisation", "created_by"
        )
        if not with_content:
            imports = imports.defer("content").annotate(
                content_head=Substr("content", 1, PREVIEW_HEAD_CHARS)
            )
        return get_object_or_404(imports, pk=self.kwargs["pk"])


def import_progress(member_import: MemberImport) -> dict:
    """Rows done so far: the check writes its count to the row, the commit to the cache."""
    if member_import.status == ImportStatus.RUNNING:
        done = cache.get(member_import_progress_key(member_import.pk)) or 0
        total = member_import.valid_rows
    elif member_import.status == ImportStatus.QUEUED:
        done, total = 0, member_import.valid_rows
    else:
        done, total = member_import.processed_rows, member_import.total_rows
    percent = int(100 * done / total) if total else 0
    return {
        "status": member_import.status,
        "done": done,
        "total": total,
        "percent": min(percent, 100),
        "finished": member_import.status
        in (ImportStatus.PREVIEWED, ImportStatus.DONE, ImportStatus.FAILED),
    }


class MemberImportDetailView(_ImportPage):
    """An import's progress while it runs, then its preview and report, then its outcome."""

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        member_import = self.get_import()
        progress = import_progress(member_import)
        if request.GET.get("format") == "json":
            return JsonResponse(progress)
        preview = []
        if member_import.status == ImportStatus.PREVIEWED and member_import.valid_rows:
            # The preview reads only the head of the file: the first good rows are there.
            head = member_import.content_head
            if len(head) == PREVIEW_HEAD_CHARS:
                head = head.rsplit("\n", 1)[0]
            member_import.content = head
            preview = member_import_preview(member_import=member_import, limit=20)
        definitions = community_attributes(community=member_import.community)
        for row in preview:
            row["cells"] = [attribute_display(d, row["attributes"].get(d.key)) for d in definitions]
        errors = Paginator(member_import.errors, IMPORT_ERRORS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        return render(
            request,
            "communities/staff_member_import_detail.html",
            {
                "organisation": self.organisation,
                "role": self.role,
                "community": member_import.community,
                "member_import": member_import,
                "progress": progress,
                "preview": preview,
                "preview_keys": [(d.key, attribute_label(d)) for d in definitions],
                "errors": errors,
                "errors_kept": len(member_import.errors),
                "progress_url": reverse(
                    "staff:member_import_detail", args=[self.organisation.slug, member_import.pk]
                )
                + "?format=json",
            },
        )


class MemberImportConfirmView(_ImportPage):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        member_import = self.get_import()
        if member_import_confirm(member_import=member_import):
            messages.success(request, _("Importing. This page shows when it is done."))
        elif member_import.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            messages.info(request, _("This import is already running."))
        elif member_import.status == ImportStatus.DONE:
            messages.info(request, _("This file was imported already."))
        else:
            messages.error(request, _("There are no rows to import in this file."))
        return redirect("staff:member_import_detail", self.organisation.slug, member_import.pk)


class MemberImportErrorsView(_ImportPage):
    """The whole report as CSV, to fix the rows in a spreadsheet."""

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        member_import = get_object_or_404(
            MemberImport.objects.for_organisation(self.organisation).defer("content"),
            pk=self.kwargs["pk"],
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([_("row"), _("column"), _("value"), _("problem")])
        for error in member_import.errors:
            # A leading =, +, - or @ would run as a formula when the file is opened.
            value = error.get("value", "")
            if value[:1] in ("=", "+", "-", "@"):
                value = "'" + value
            writer.writerow([error["row"], error.get("column", ""), value, error["message"]])
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="import-{member_import.pk}-problems.csv"'
        )
        return response


# --- segments -------------------------------------------------------------------------------


class SegmentListView(_CommunityPage):
    template_name = "communities/staff_segment_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        segments = list(
            Segment.objects.for_organisation(self.organisation).filter(community=self.community)
        )
        counts = segment_counts(community=self.community, segments=segments)
        context["segments"] = [(segment, counts.get(segment.pk)) for segment in segments]
        context["member_total"] = community_members(community=self.community).count()
        return context


class _SegmentFormPage(StaffScopedMixin, TemplateView, ABC):
    template_name = "communities/staff_segment_form.html"
    permission = staticmethod(can_manage)

    def render_form(
        self, form: SegmentForm, *, status: int = 200, count: int | None = None
    ) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(
                form=form,
                count=count,
                community=self.community,
                segment=getattr(self, "segment", None),
                count_url=reverse(
                    "staff:segment_count", args=[self.organisation.slug, self.community.pk]
                ),
            ),
            status=status,
        )

    @abstractmethod
    def save(self, form: SegmentForm) -> Segment:
        """Write the segment through its service (create or update)."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.load()
        form = SegmentForm(request.POST, definitions=community_attributes(community=self.community))
        if form.is_valid():
            try:
                segment = self.save(form)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
                return redirect("staff:segment_list", self.organisation.slug, self.community.pk)
        return self.render_form(form, status=400)


class SegmentCreateView(_SegmentFormPage):
    def load(self) -> None:
        self.community = get_object_or_404(
            Community.objects.for_organisation(self.organisation), pk=self.kwargs["pk"]
        )

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.load()
        return self.render_form(
            SegmentForm(definitions=community_attributes(community=self.community)),
            count=community_members(community=self.community).count(),
        )

    def save(self, form: SegmentForm) -> Segment:
        return segment_create(
            community=self.community, name=form.cleaned_data["name"], filter=form.filter()
        )


class SegmentEditView(_SegmentFormPage):
    def load(self) -> None:
        self.segment = get_object_or_404(
            Segment.objects.for_organisation(self.organisation).select_related("community"),
            pk=self.kwargs["pk"],
        )
        self.community = self.segment.community

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.load()
        initial = {"name": self.segment.name, **SegmentForm.initial_from(self.segment.filter)}
        return self.render_form(
            SegmentForm(
                initial=initial, definitions=community_attributes(community=self.community)
            ),
            count=segment_counts(community=self.community, segments=[self.segment]).get(
                self.segment.pk
            ),
        )

    def save(self, form: SegmentForm) -> Segment:
        return segment_update(
            segment=self.segment, name=form.cleaned_data["name"], filter=form.filter()
        )


class SegmentDeleteView(StaffScopedMixin, View):
    permission = staticmethod(can_manage)
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        segment = get_object_or_404(Segment.objects.for_organisation(self.organisation), pk=pk)
        community_id = segment.community_id
        segment_delete(segment=segment)
        messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
        return redirect("staff:segment_list", self.organisation.slug, community_id)


class SegmentCountView(StaffScopedMixin, View):
    """How many members an unsaved filter selects, for the live count on the segment form."""

    permission = staticmethod(can_read_results)

    def get(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        community = get_object_or_404(Community.objects.for_organisation(self.organisation), pk=pk)
        definitions = community_attributes(community=community)
        form = MemberFilterForm(request.GET, definitions=definitions)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        try:
            clean = segment_filter_clean(
                community=community, filter=form.filter(), definitions=definitions
            )
        except ValidationError as exc:
            return JsonResponse({"errors": exc.message_dict}, status=400)
        count = members_matching(community=community, filter=clean).count()
        return JsonResponse({"count": count})
