"""Staff: export a survey's responses (owners, admins and analysts: who reads results).

- surveys/<pk>/export/      the export page: options and filters, recent files; its form
                            streams a CSV at once or queues a file for a worker
- surveys/<pk>/export.csv   the streamed CSV for the options in the query string
- exports/<pk>/             a queued file's progress bar (which polls ↓), then its link
- exports/<pk>/status/      the job's progress as JSON
- exports/<pk>/download/    the file, while its link works (EXPORT_LINK_HOURS)

Bad options answer 400 with the export page and its errors; so does an export of fewer
than the organisation's minimum group size of responses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone, translation
from django.views.generic import DetailView

from communities.formviews import StaffObjectFormView
from communities.models import Organisation
from communities.permissions import can_read_results
from communities.scoping import StaffScopedMixin
from communities.views.settings import organisation_time_zone
from surveys.exports.files import csv_pieces
from surveys.exports.params import ExportParams, ExportRequestForm
from surveys.exports.selectors import responses_export_plan
from surveys.exports.services import (
    EXPORTS_FOLDER,
    export_download_record,
    export_job_create,
    export_record,
)
from surveys.models import ExportFormat, ExportJob, ExportStatus, Survey

RECENT_JOBS = 10
CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _attachment(
    response: HttpResponseBase, *, organisation: Organisation, survey: Survey, extension: str
) -> HttpResponseBase:
    # Only digits, letters and dashes: safe in the header and on any file system, whatever
    # the survey is called. The day is the organisation's.
    day = timezone.localdate(timezone=organisation_time_zone(organisation))
    name = f"survey-{survey.pk}-responses-{day.isoformat()}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class StaffSurveyExportView(StaffObjectFormView):
    template_name = "surveys/exports/export.html"
    permission = staticmethod(can_read_results)
    model = Survey
    context_object_name = "survey"
    form_class = ExportRequestForm

    def get_initial(self) -> dict[str, Any]:
        return {"labels": translation.get_language()}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "organisation": self.organisation}

    def get_context_data(self, **kwargs) -> dict[str, Any]:
        jobs = (
            ExportJob.objects.for_organisation(self.organisation)
            .filter(survey=self.object)
            .select_related("requested_by")[:RECENT_JOBS]
        )
        return super().get_context_data(
            jobs=jobs, min_group_size=self.organisation.min_group_size, **kwargs
        )

    def form_valid(self, form: ExportRequestForm) -> HttpResponseBase:
        # The base's form_valid takes an HttpResponse from form_save; a streamed CSV is an
        # HttpResponseBase, so the refusal handling is repeated here.
        try:
            return self.form_save(form)
        except ValidationError as exc:
            self.service_errors_put(form, exc)
            return self.form_invalid(form)

    def form_save(self, form: ExportRequestForm) -> HttpResponseBase:
        params = form.params(default_labels=translation.get_language())
        job_format = form.job_format()
        if job_format is None:
            return _streamed_csv(self, params)
        job = export_job_create(
            organisation=self.organisation,
            survey=self.object,
            requested_by=self.request.user,
            params=params,
            format=job_format,
        )
        return HttpResponseRedirect(
            reverse("staff:export_job", args=[self.organisation.slug, job.pk])
        )


def _streamed_csv(view: StaffSurveyExportView, params: ExportParams) -> HttpResponseBase:
    """The CSV of these options, streamed; ExportRefused (a ValidationError) when too few
    responses match."""
    plan = responses_export_plan(organisation=view.organisation, survey=view.object, params=params)
    export_record(
        organisation=view.organisation,
        survey=view.object,
        actor=view.request.user,
        params=params,
        format=ExportFormat.CSV,
    )
    response = StreamingHttpResponse(csv_pieces(plan=plan), content_type=CONTENT_TYPES["csv"])
    return _attachment(
        response, organisation=view.organisation, survey=view.object, extension="csv"
    )


class StaffSurveyExportCsvView(StaffSurveyExportView):
    """The streamed CSV for the options in the query string: a link that can be kept."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        data = request.GET.copy()
        data["format"] = ExportRequestForm.DOWNLOAD_NOW
        form = ExportRequestForm(data, organisation=self.organisation)
        if form.is_valid():
            return self.form_valid(form)
        return self.form_invalid(form)


class _StaffJobView(StaffScopedMixin, DetailView):
    permission = staticmethod(can_read_results)
    model = ExportJob
    context_object_name = "job"

    def scope_queryset(self, queryset):
        return queryset.select_related("survey", "requested_by")


def _status(job: ExportJob, organisation_slug: str) -> dict[str, Any]:
    ready = job.is_downloadable()
    return {
        "status": job.status,
        "label": str(ExportStatus(job.status).label),
        "done": job.rows_done,
        "total": job.rows_total,
        "percent": job.percent,
        "finished": job.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING),
        "download_url": reverse("staff:export_job_download", args=[organisation_slug, job.pk])
        if ready
        else None,
        "expires_at": job.expires_at.isoformat() if ready else None,
    }


class StaffExportJobView(_StaffJobView):
    template_name = "surveys/exports/job.html"

    def get_context_data(self, **kwargs) -> dict[str, Any]:
        job = self.object
        return super().get_context_data(
            status=_status(job, self.organisation.slug),
            status_url=reverse("staff:export_job_status", args=[self.organisation.slug, job.pk]),
            **kwargs,
        )


class StaffExportJobStatusView(_StaffJobView):
    """What the job page's progress bar polls."""

    def render_to_response(self, context, **response_kwargs) -> JsonResponse:
        response = JsonResponse(_status(self.object, self.organisation.slug))
        response["Cache-Control"] = "no-store"
        return response


class StaffExportJobDownloadView(_StaffJobView):
    """The prepared file while its link works; 410 once it expired (the job page says so)."""

    template_name = "surveys/exports/job.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = job = self.get_object()
        if not job.is_downloadable():
            context = self.get_context_data(status=_status(job, self.organisation.slug), gone=True)
            return self.render_to_response(context, status=410)
        path = _job_file(job)
        export_download_record(job=job, actor=request.user)
        # FileResponse closes the file once it is sent.
        handle = open(path, "rb")  # noqa: SIM115
        response = FileResponse(handle, content_type=CONTENT_TYPES[job.format])
        return _attachment(
            response, organisation=self.organisation, survey=job.survey, extension=job.format
        )


def _job_file(job: ExportJob) -> Path:
    """The job's file, which must be in its organisation's exports folder."""
    folder = (Path(settings.MEDIA_ROOT) / EXPORTS_FOLDER / str(job.organisation_id)).resolve()
    path = (Path(settings.MEDIA_ROOT) / job.file_path).resolve()
    if path.parent != folder or not path.is_file():
        raise Http404
    return path
