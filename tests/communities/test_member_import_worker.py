"""A member CSV import checked and committed by a real Celery worker over Redis.

Runs on the PostgreSQL + Redis leg of CI: the upload is saved and queued from this
process, and a separate `celery worker` process checks every row and, once confirmed,
imports the good ones. The page polls the row (check) and the cache (commit) for progress.
"""

import csv
import io
import time

import pytest

from communities.choices import AttributeKind, ImportStatus
from communities.models import ConsentRecord, Member, MemberImport
from communities.services import member_import_confirm, member_import_create
from communities.tasks import member_import_check_task, member_import_commit_task
from tests.factories.communities import AttributeDefinitionFactory, CommunityFactory, MemberFactory
from tests.worker_fixtures import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 3000


def _status(member_import: MemberImport) -> str:
    return MemberImport.objects.values_list("status", flat=True).get(pk=member_import.pk)


def test_a_worker_checks_and_imports_a_file_once(celery_worker_process):
    # given a community with an attribute, one existing member, and a file of 3,000 rows
    # of which two are bad (a malformed address and an existing member)
    _process, log = celery_worker_process
    community = CommunityFactory()
    AttributeDefinitionFactory(community=community, key="age", kind=AttributeKind.NUMBER)
    MemberFactory(community=community, email="existing@example.com")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "age"])
    for n in range(ROWS - 2):
        writer.writerow([f"w{n}@example.org", f"Worker {n}", 20 + n % 50])
    writer.writerow(["not-an-email", "Bad", "30"])
    writer.writerow(["existing@example.com", "Old", "40"])

    # when it is uploaded: this process only saves it and queues the check
    member_import = member_import_create(
        community=community, filename="w.csv", data=out.getvalue().encode(), consent_confirmed=True
    )
    # then the worker checks every row into the report
    assert wait_until(lambda: _status(member_import) == ImportStatus.PREVIEWED), log.read_text()[
        -3000:
    ]
    member_import.refresh_from_db()
    assert (member_import.total_rows, member_import.valid_rows) == (ROWS, ROWS - 2)
    assert {e["row"] for e in member_import.errors} == {ROWS, ROWS + 1}
    assert member_import.processed_rows == ROWS

    # when staff confirm twice (a double click)
    assert member_import_confirm(member_import=member_import) is True
    assert member_import_confirm(member_import=member_import) is False
    # then the worker imports every good row once, with a consent record each
    assert wait_until(lambda: _status(member_import) == ImportStatus.DONE), log.read_text()[-3000:]
    member_import.refresh_from_db()
    assert member_import.created_count == ROWS - 2
    assert Member.objects.filter(community=community).count() == ROWS - 1
    assert ConsentRecord.objects.filter(member__community=community, channel="import").count() == (
        ROWS - 2
    )

    # when both tasks are delivered again, as after a worker died before acknowledging
    member_import_check_task.delay(import_id=member_import.pk)
    member_import_commit_task.delay(import_id=member_import.pk)
    # then they find the work done and write nothing
    finished = "communities.tasks.member_import_commit_task"
    assert wait_until(lambda: log.read_text().count(f"{finished}[") >= 4)
    time.sleep(1)
    assert Member.objects.filter(community=community).count() == ROWS - 1
    assert _status(member_import) == ImportStatus.DONE
