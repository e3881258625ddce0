"""Writes for response exports: a file job queued, written by a worker, expired.

A job's file is written under MEDIA_ROOT/exports/<organisation id>/ to a temporary name and
renamed when complete, so a half-written file is never offered. Progress is saved every
few thousand rows, outside any transaction, so the staff page's progress bar moves while
the worker writes. A job whose worker died (or whose enqueue was lost) is started again
by the sweep; running a job twice writes the same file twice, nothing more.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from communities.models import Organisation, User
from communities.services.audit import audit_record, audit_register
from config.queue import enqueue_on_commit
from surveys.exports.files import csv_file_write, xlsx_file_write
from surveys.exports.params import ExportParams, export_params_read
from surveys.exports.selectors import ExportRefused, export_size_check, responses_export_plan
from surveys.models import ExportFormat, ExportJob, ExportStatus, Survey

logger = logging.getLogger(__name__)

EXPORTS_FOLDER = "exports"
# At most one progress write per this many seconds (besides every PROGRESS_ROWS rows).
PROGRESS_SECONDS = 0.5
# Files no job offers are removed by the sweep once this old.
STRAY_FILE_MIN_AGE = datetime.timedelta(hours=1)
# Jobs started again per sweep, at most.
REDRIVE_LIMIT = 100

AUDIT_ACTIONS = {
    "responses.export": gettext_lazy("Responses exported"),
    "responses.export_download": gettext_lazy("Exported responses downloaded"),
}
AUDIT_TARGET_LABELS = {"survey": gettext_lazy("Survey")}


def export_audit_register() -> None:
    """Name the export's audit actions (at start-up, from the surveys app's ready())."""
    audit_register(actions=AUDIT_ACTIONS, target_labels=AUDIT_TARGET_LABELS)


def _params_label(params: ExportParams, format: str) -> str:
    return ", ".join([format, *(f"{key}={value}" for key, value in params.query().items())])


def export_record(
    *, organisation: Organisation, survey: Survey, actor: User, params: ExportParams, format: str
) -> None:
    """Record in the audit log that `actor` took the survey's responses out (a streamed
    CSV); personal data may leave with them."""
    audit_record(
        organisation=organisation,
        actor=actor,
        action="responses.export",
        target=survey,
        target_type="survey",
        target_label=f"{survey} ({_params_label(params, format)})",
    )


@transaction.atomic
def export_job_create(
    *,
    organisation: Organisation,
    survey: Survey,
    requested_by: User,
    params: ExportParams,
    format: str,
) -> ExportJob:
    """Queue a file export of the survey's responses for a worker (after commit), recorded
    in the audit log. ExportRefused when it would hold fewer than k responses (but some)."""
    total = export_size_check(organisation=organisation, survey=survey, params=params)
    job = ExportJob(
        organisation=organisation,
        survey=survey,
        requested_by=requested_by,
        params=params.query(),
        format=ExportFormat(format),
        rows_total=total,
    )
    job.full_clean()
    job.save()
    export_record(
        organisation=organisation, survey=survey, actor=requested_by, params=params, format=format
    )
    from surveys.exports.tasks import export_job_run_task

    enqueue_on_commit(export_job_run_task, job_id=job.pk)
    return job


def _folder(organisation_id: int) -> Path:
    folder = Path(settings.MEDIA_ROOT) / EXPORTS_FOLDER / str(organisation_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _job_update(job_id: int, **fields: Any) -> None:
    # .update() skips auto_now; the sweep reads updated_at to find jobs nobody is writing.
    ExportJob.objects.filter(pk=job_id).update(updated_at=timezone.now(), **fields)


def export_job_run(*, job_id: int) -> str:
    """Write the job's file and offer it for EXPORT_LINK_HOURS; returns the job's status.
    A finished or expired job is left alone; a queued or interrupted one is (re)written."""
    job = ExportJob.objects.select_related("organisation", "survey").filter(pk=job_id).first()
    if job is None or job.status in (ExportStatus.DONE, ExportStatus.EXPIRED):
        return job.status if job is not None else "missing"
    _job_update(job.pk, status=ExportStatus.RUNNING, started_at=timezone.now(), rows_done=0)
    params, form = export_params_read(
        organisation=job.organisation,
        data=job.params,
        default_labels=job.params.get("labels") or settings.LANGUAGE_CODE,
    )
    if params is None:
        problems = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return _failed(job, problems)
    try:
        plan = responses_export_plan(
            organisation=job.organisation, survey=job.survey, params=params
        )
    except ExportRefused as refused:
        return _failed(job, refused.message)
    total = plan.rows_total
    _job_update(job.pk, rows_total=total)
    folder = _folder(job.organisation_id)
    final = folder / f"{job.pk}-{secrets.token_hex(8)}.{job.format}"
    partial = final.with_name(final.name + ".part")
    last = [time.monotonic()]

    def progress(rows: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            _job_update(job.pk, rows_done=min(rows, total))

    write = xlsx_file_write if job.format == ExportFormat.XLSX else csv_file_write
    try:
        written = write(plan=plan, path=partial, progress=progress)
        partial.replace(final)
    except Exception:
        logger.exception("Export job %s failed", job.pk)
        partial.unlink(missing_ok=True)
        return _failed(job, "")
    finished = timezone.now()
    # A second run of the job (started again by the sweep) replaces the first one's file.
    replaced = ExportJob.objects.filter(pk=job.pk).values_list("file_path", flat=True).first()
    _job_update(
        job.pk,
        status=ExportStatus.DONE,
        rows_total=written,
        rows_done=written,
        file_path=str(final.relative_to(settings.MEDIA_ROOT)),
        finished_at=finished,
        expires_at=finished + datetime.timedelta(hours=settings.EXPORT_LINK_HOURS),
        error="",
    )
    if replaced:
        (Path(settings.MEDIA_ROOT) / replaced).unlink(missing_ok=True)
    return ExportStatus.DONE


def _failed(job: ExportJob, reason: str) -> str:
    _job_update(job.pk, status=ExportStatus.FAILED, finished_at=timezone.now(), error=reason[:200])
    return ExportStatus.FAILED


def export_download_record(*, job: ExportJob, actor: User) -> None:
    """Record in the audit log that `actor` downloaded a prepared export."""
    audit_record(
        organisation=job.organisation,
        actor=actor,
        action="responses.export_download",
        target=job.survey,
        target_type="survey",
        target_label=f"{job.survey} ({job.format} #{job.pk})",
    )


def _expired_delete(*, root: Path, now: datetime.datetime) -> int:
    deleted = 0
    expired = ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now)
    for job_id, file_path in expired.values_list("pk", "file_path").iterator(chunk_size=500):
        if file_path:
            (root / file_path).unlink(missing_ok=True)
            deleted += 1
        _job_update(job_id, status=ExportStatus.EXPIRED, file_path="")
    return deleted


def _strays_delete(*, root: Path, now: datetime.datetime) -> int:
    """Files no job offers: a dead run's partial file, a file whose job went with its survey
    or was replaced by a second run. Only older ones: a run renames its file a moment
    before its job names it."""
    folder = root / EXPORTS_FOLDER
    if not folder.is_dir():
        return 0
    offered = set(
        ExportJob.objects.filter(status=ExportStatus.DONE).values_list("file_path", flat=True)
    )
    oldest = (now - STRAY_FILE_MIN_AGE).timestamp()
    deleted = 0
    for path in folder.glob("*/*"):
        old = path.is_file() and path.stat().st_mtime < oldest
        if old and str(path.relative_to(root)) not in offered:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def exports_sweep(*, now: datetime.datetime | None = None) -> int:
    """Delete expired files (their jobs become expired) and files no job offers, and start
    again the jobs nobody is writing (a lost enqueue, a dead worker). Returns how many
    files were deleted."""
    now = now or timezone.now()
    root = Path(settings.MEDIA_ROOT)
    deleted = _expired_delete(root=root, now=now) + _strays_delete(root=root, now=now)
    from surveys.exports.tasks import export_job_run_task

    stale = ExportJob.objects.filter(
        status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING),
        updated_at__lt=now - datetime.timedelta(minutes=settings.EXPORT_REDRIVE_MINUTES),
    )
    stale_ids = list(stale.order_by("updated_at").values_list("pk", flat=True)[:REDRIVE_LIMIT])
    # Touched first, so the next sweep does not start a job again that a worker is about
    # to pick up.
    ExportJob.objects.filter(pk__in=stale_ids).update(updated_at=now)
    for job_id in stale_ids:
        export_job_run_task.delay(job_id=job_id)
    return deleted
