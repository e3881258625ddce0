"""Staff pages for CSV imports of members: upload, progress, preview and report, confirm.

Another organisation's import id answers 404; only owners and admins import.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Substr
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from communities.choices import ImportStatus
from communities.forms.attributes import attribute_display, attribute_label
from communities.forms.staff import MemberImportForm
from communities.formviews import StaffFormView
from communities.models import MemberImport
from communities.permissions import can_manage
from communities.scoping import StaffScopedMixin
from communities.services.attributes import community_attributes
from communities.services.audit import audit_record
from communities.services.imports import (
    member_import_confirm,
    member_import_create,
    member_import_preview,
    member_import_progress_key,
)
from communities.views.communities import CommunityPageMixin
from config.ratelimit import rate_limited
from config.spreadsheet import SafeCsvWriter

IMPORT_ERRORS_PER_PAGE = 100
# Uploads per organisation per hour: plenty for real work, a wall against a script.
IMPORT_UPLOADS_PER_HOUR = 10
# The page's text of an import's whole file is not needed: its head is enough for a preview.
PREVIEW_HEAD_CHARS = 200_000


class MemberImportCreateView(CommunityPageMixin, StaffFormView):
    template_name = "communities/staff_member_import.html"
    permission = staticmethod(can_manage)
    form_class = MemberImportForm
    service_error_statuses = {"rate_limited": 429}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        community = self.get_community()
        context["imports"] = (
            MemberImport.objects.for_organisation(self.organisation)
            .filter(community=community)
            .defer("content", "errors")
            .select_related("created_by")[:10]
        )
        context["attribute_keys"] = [d.key for d in community_attributes(community=community)]
        return context

    def form_save(self, form: MemberImportForm) -> MemberImport:
        if rate_limited(
            scope="member-import",
            key=str(self.organisation.pk),
            limit=IMPORT_UPLOADS_PER_HOUR,
            window=3600,
        ):
            raise ValidationError(
                _("This organisation uploaded %(n)d files in the last hour. Try again later.")
                % {"n": IMPORT_UPLOADS_PER_HOUR},
                code="rate_limited",
            )
        upload = form.cleaned_data["file"]
        return member_import_create(
            community=self.get_community(),
            filename=upload.name,
            data=upload.read(),
            consent_confirmed=form.cleaned_data["consent_confirmed"],
            created_by=self.request.user,
        )

    def get_success_url(self) -> str:
        return reverse("staff:member_import_detail", args=[self.organisation.slug, self.saved.pk])


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
        # The report repeats rows of the uploaded file (addresses, names): a download of
        # personal data, so the audit log keeps who took it.
        audit_record(
            organisation=self.organisation,
            actor=request.user,
            action="member_import.problems_download",
            target_type="member_import",
            target_id=str(member_import.pk),
            target_label=f"import #{member_import.pk}",
        )
        out = io.StringIO()
        writer = SafeCsvWriter(out)
        writer.writerow([_("row"), _("column"), _("value"), _("problem")])
        for error in member_import.errors:
            writer.writerow(
                [error["row"], error.get("column", ""), error.get("value", ""), error["message"]]
            )
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="import-{member_import.pk}-problems.csv"'
        )
        return response
