"""File exports written by the worker's service (run eagerly here): the XLSX and CSV files,
the job page and its progress JSON, the download link and its expiry, the sweep."""

import datetime
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from communities.models import AuditEntry
from surveys.exports.params import ExportParams
from surveys.exports.services import export_job_create, export_job_run, exports_sweep
from surveys.models import ExportJob
from tests.factories.surveys import ExportJobFactory
from tests.surveys.exports.helpers import csv_url, seeded_rows, sheet_rows

pytestmark = pytest.mark.django_db


def _job_url(organisation, job, name="export_job") -> str:
    return reverse(f"staff:{name}", args=[organisation.slug, job.pk])


def _file(job) -> Path:
    return Path(settings.MEDIA_ROOT) / job.file_path


def _queued(organisation, seeded, staff_user, format="xlsx", **params) -> ExportJob:
    return export_job_create(
        organisation=organisation,
        survey=seeded.survey,
        requested_by=staff_user,
        params=ExportParams(**params),
        format=format,
    )


def test_xlsx_job_writes_the_same_rows_as_the_csv_with_text_typed_as_text(
    staff_client, staff_user, organisation, seeded, django_capture_on_commit_callbacks
):
    # given an XLSX export queued; when its task runs (eagerly, after commit)
    with django_capture_on_commit_callbacks(execute=True):
        job = _queued(organisation, seeded, staff_user)
    job.refresh_from_db()
    # then the file is done, counted, and offered for a day
    assert (job.status, job.rows_done, job.rows_total) == ("done", 6, 6)
    assert job.file_path.startswith(f"exports/{organisation.pk}/") and job.file_path.endswith(
        ".xlsx"
    )
    expected_expiry = job.finished_at + datetime.timedelta(hours=24)
    assert job.expires_at == expected_expiry
    # and its sheet holds the CSV's cells, with formula-like text kept as plain text
    # (no apostrophe: the cell is typed as text, and the sheet holds no formula)
    expected = [[cell.removeprefix("'") for cell in row] for row in seeded_rows(seeded)]
    assert sheet_rows(_file(job)) == expected


def test_csv_file_job_writes_exactly_the_streamed_csv(
    staff_client, staff_user, organisation, seeded, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _queued(organisation, seeded, staff_user, format="csv", labels="th", codes=True)
    job.refresh_from_db()
    streamed = staff_client.get(
        csv_url(organisation, seeded.survey), {"labels": "th", "codes": "1"}
    )
    assert _file(job).read_bytes() == b"".join(streamed.streaming_content)


def test_job_page_shows_progress_then_the_download_link(
    staff_client, staff_user, organisation, seeded, django_capture_on_commit_callbacks
):
    # given a queued job
    job = _queued(organisation, seeded, staff_user)
    # then its page has a progress bar that polls the status
    page = staff_client.get(_job_url(organisation, job)).content.decode()
    assert 'id="import-progress"' in page
    assert f'data-url="{_job_url(organisation, job, "export_job_status")}"' in page
    status = staff_client.get(_job_url(organisation, job, "export_job_status")).json()
    assert status == {
        "status": "queued",
        "label": "Waiting to start",
        "done": 0,
        "total": 6,
        "percent": 0,
        "finished": False,
        "download_url": None,
        "expires_at": None,
    }
    # when the worker has written it
    export_job_run(job_id=job.pk)
    # then the status says so, and the page offers the file instead of the bar
    status = staff_client.get(_job_url(organisation, job, "export_job_status")).json()
    assert (status["status"], status["done"], status["percent"], status["finished"]) == (
        "done",
        6,
        100,
        True,
    )
    assert status["download_url"] == _job_url(organisation, job, "export_job_download")
    page = staff_client.get(_job_url(organisation, job)).content.decode()
    assert 'id="import-progress"' not in page and 'id="export-download"' in page


def test_progress_is_saved_while_the_file_is_written(staff_user, organisation, seeded, monkeypatch):
    # given progress saved every 2 rows, at most every 0 s
    from surveys.exports import files, services

    monkeypatch.setattr(files, "PROGRESS_ROWS", 2)
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0)
    seen = []
    original = services._job_update

    def spy(job_id, **fields):
        if "rows_done" in fields:
            seen.append(fields["rows_done"])
        original(job_id, **fields)

    monkeypatch.setattr(services, "_job_update", spy)
    job = _queued(organisation, seeded, staff_user)
    export_job_run(job_id=job.pk)
    # then the bar moved in steps before the end
    assert seen == [0, 2, 4, 6, 6]


def test_download_gives_the_file_while_the_link_works_and_is_audited(
    staff_client, staff_user, organisation, seeded
):
    job = _queued(organisation, seeded, staff_user)
    export_job_run(job_id=job.pk)
    response = staff_client.get(_job_url(organisation, job, "export_job_download"))
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="survey-{seeded.survey.pk}-responses-'
    )
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert AuditEntry.objects.filter(action="responses.export_download").count() == 1


def test_an_expired_link_answers_410_and_the_sweep_deletes_the_file(
    staff_client, staff_user, organisation, seeded
):
    # given a finished export whose link has just expired
    job = _queued(organisation, seeded, staff_user)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now())
    # then the link answers 410 with a page saying so
    page = staff_client.get(_job_url(organisation, job, "export_job_download"))
    assert page.status_code == 410
    assert 'id="export-gone"' in page.content.decode()
    # when the sweep runs, the file is gone and the job says expired
    path = _file(job)
    assert exports_sweep() == 1
    job.refresh_from_db()
    assert not path.exists()
    assert (job.status, job.file_path) == ("expired", "")
    assert staff_client.get(_job_url(organisation, job, "export_job_download")).status_code == 410


def test_a_link_that_still_works_is_left_by_the_sweep(staff_user, organisation, seeded):
    job = _queued(organisation, seeded, staff_user)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert exports_sweep() == 0
    assert _file(job).exists()


def test_the_sweep_deletes_files_no_job_offers_once_they_are_old(organisation):
    # given a dead run's partial file and a file whose job was deleted, an hour old,
    # and a partial file being written right now
    folder = Path(settings.MEDIA_ROOT) / "exports" / str(organisation.pk)
    folder.mkdir(parents=True)
    old = time.time() - 2 * 3600
    stale = [folder / "7-abc.xlsx.part", folder / "8-def.csv"]
    for path in stale:
        path.write_text("x")
        os.utime(path, (old, old))
    fresh = folder / "9-ghi.xlsx.part"
    fresh.write_text("x")
    # when the sweep runs
    assert exports_sweep() == 2
    # then only the fresh one is left
    assert [path.name for path in folder.iterdir()] == [fresh.name]


def test_the_sweep_starts_again_a_job_nobody_is_writing(staff_user, organisation, seeded):
    # given a job whose enqueue was lost eleven minutes ago
    job = _queued(organisation, seeded, staff_user)
    ExportJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=11)
    )
    # when the sweep runs (tasks run eagerly in these tests)
    exports_sweep()
    # then the job was written
    job.refresh_from_db()
    assert job.status == "done" and _file(job).exists()


def test_running_a_finished_job_again_changes_nothing(staff_user, organisation, seeded):
    job = _queued(organisation, seeded, staff_user)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert export_job_run(job_id=job.pk) == "done"
    again = ExportJob.objects.get(pk=job.pk)
    assert (again.file_path, again.finished_at) == (job.file_path, job.finished_at)


def test_a_second_run_of_an_interrupted_job_replaces_the_first_file(
    staff_user, organisation, seeded
):
    # given a job a worker finished, then (the sweep thinking it dead) started again
    job = _queued(organisation, seeded, staff_user)
    export_job_run(job_id=job.pk)
    first = ExportJob.objects.get(pk=job.pk).file_path
    ExportJob.objects.filter(pk=job.pk).update(status="running")
    export_job_run(job_id=job.pk)
    # then one file is offered and the other is gone
    second = ExportJob.objects.get(pk=job.pk).file_path
    assert first != second
    assert not (Path(settings.MEDIA_ROOT) / first).exists()
    assert (Path(settings.MEDIA_ROOT) / second).exists()


def test_a_job_whose_options_no_longer_apply_fails_saying_why(staff_user, organisation, seeded):
    # given a job for a store that was deleted before the worker got to it
    store = seeded.r[5].location
    job = _queued(organisation, seeded, staff_user, location_id=seeded.r[1].location_id)
    ExportJob.objects.filter(pk=job.pk).update(params={"labels": "en", "location": str(store.pk)})
    store.delete()
    # when it runs
    assert export_job_run(job_id=job.pk) == "failed"
    # then it says so, and nothing is offered
    job.refresh_from_db()
    assert job.error == "Choose a store from the list." and job.file_path == ""


def test_a_job_that_became_too_small_fails_saying_why(staff_user, organisation, seeded):
    job = _queued(organisation, seeded, staff_user, language="en")
    seeded.r[3].delete()
    seeded.r[6].delete()
    assert export_job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.error.startswith("Only 1 response matches")


def test_a_job_page_of_a_ready_factory_job_offers_its_file(staff_client, organisation):
    job = ExportJobFactory(survey__organisation=organisation, ready=True)
    response = staff_client.get(_job_url(organisation, job, "export_job_download"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_a_file_outside_the_organisations_folder_is_never_served(staff_client, organisation):
    job = ExportJobFactory(survey__organisation=organisation, ready=True)
    ExportJob.objects.filter(pk=job.pk).update(file_path=f"exports/{organisation.pk}/../x.csv")
    assert staff_client.get(_job_url(organisation, job, "export_job_download")).status_code == 404


@pytest.mark.parametrize(
    "text",
    [
        "<r><t>rich?</t></r>",
        "</t></is></c><c><f>1+1</f></c><is><t>",
        "a & b < c",
        "_x0041_",
        " padded ",
    ],
)
def test_xlsx_cells_hold_any_text_exactly_and_never_markup(staff_user, organisation, seeded, text):
    # given a respondent's comment that looks like sheet markup or an Excel escape
    from surveys.choices import QuestionType
    from tests.factories.surveys import AnswerFactory

    answer = AnswerFactory(
        response=seeded.r[3],
        question=seeded.survey.questions.get(type=QuestionType.TEXT),
        number=None,
        text=text,
    )
    # when the workbook is written
    job = _queued(organisation, seeded, staff_user)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    # then the cell reads back as the very text, and the sheet holds no formula
    rows = sheet_rows(_file(job))
    cell = rows[3][13]
    if text == "_x0041_":
        assert cell == "_x005F_x0041_"  # Excel's own escape of a literal "_xHHHH_"
    else:
        assert cell == text
    assert answer.text == text
