"""An XLSX export written by a real Celery worker over Redis, read back from the file.

Runs on the PostgreSQL + Redis leg: the job is queued from this process, a separate
`celery worker` (started by this test, on a broker of its own, with this test's
MEDIA_ROOT) writes the workbook, and the test reads the sheet's XML back.
"""

import pytest
from django.conf import settings

from surveys.exports.params import ExportParams
from surveys.exports.services import export_job_create
from surveys.models import ExportJob
from tests.surveys.exports.helpers import seeded_rows, sheet_rows
from tests.worker_fixtures import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_writes_the_xlsx_and_the_link_offers_it(
    own_workers, monkeypatch, staff_client, staff_user, organisation, seeded
):
    # given a worker that writes where this test reads
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))
    own_workers()
    # when a staff member's XLSX export is queued (committed at once: no test transaction)
    job = export_job_create(
        organisation=organisation,
        survey=seeded.survey,
        requested_by=staff_user,
        params=ExportParams(labels="en"),
        format="xlsx",
    )
    # then the worker finishes it, with every row counted
    assert wait_until(lambda: ExportJob.objects.get(pk=job.pk).status == "done", timeout=120)
    job.refresh_from_db()
    assert (job.rows_done, job.rows_total) == (6, 6)
    # and the file holds the seeded rows, formula-like text as plain text
    expected = [[cell.removeprefix("'") for cell in row] for row in seeded_rows(seeded)]
    assert sheet_rows(settings.MEDIA_ROOT / job.file_path) == expected
    # and the download link serves it
    url = f"/staff/{organisation.slug}/exports/{job.pk}/download/"
    assert b"".join(staff_client.get(url).streaming_content)[:2] == b"PK"
