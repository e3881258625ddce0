"""An email send of personal survey links, through a real Celery worker over Redis.

These run on the PostgreSQL + Redis leg of CI: the batch is queued from this process,
a separate `celery worker` process writes the invitations and sends the emails, and a
real SMTP server (aiosmtpd) on loopback accepts them. The worker reads its own settings,
so its batches go in chunks of the default INVITATION_CHUNK.
"""

import re
import time
import uuid
from datetime import timedelta
from email.message import Message

import pytest

from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_redrive
from communities.outbox.tasks import outbox_send_many_task
from surveys.choices import BatchStatus
from surveys.models import InvitationBatch, SurveyInvitation
from surveys.services import invitation_batch_create, invitation_batch_send, invitations
from surveys.tasks import invitation_batch_send_task
from tests.factories.surveys import InvitationBatchFactory
from tests.worker_fixtures import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PEOPLE = 120


class Worker:
    """The session's worker, read from where this test began: its log and what it sent."""

    def __init__(self, process_and_log, sink_and_port) -> None:
        _process, self.log = process_and_log
        self.sink, _port = sink_and_port
        self.log_start = self.log.stat().st_size
        # Every test sends to its own domain, so the session's shared sink is not mixed up.
        self.domain = f"@{uuid.uuid4().hex[:12]}.example.org"

    def people(self, count: int) -> list[tuple[str, str]]:
        return [(f"guest{n:03d}{self.domain}", f"Guest {n}") for n in range(count)]

    def delivered(self) -> list[Message]:
        return [m for m in list(self.sink.messages) if m.get("To", "").endswith(self.domain)]

    def wait_for_deliveries(self, count: int) -> list[Message]:
        wait_until(lambda: len(self.delivered()) >= count)
        return self.delivered_after_a_pause()

    def delivered_after_a_pause(self) -> list[Message]:
        """What has arrived, once anything sent twice would have arrived too."""
        time.sleep(1.5)
        return self.delivered()

    def _new_log(self) -> str:
        return self.log.read_bytes()[self.log_start :].decode(errors="replace")

    def result_of(self, task_id: str) -> str:
        """What the task returned, once the worker logs that it finished."""
        finished = re.compile(rf"\[{task_id}\] succeeded in \S+: (.*)$", re.MULTILINE)
        assert wait_until(lambda: finished.search(self._new_log())), self._new_log()[-3000:]
        return finished.search(self._new_log()).group(1)

    def results_of(self, task_name: str) -> list[str]:
        finished = re.compile(rf"{re.escape(task_name)}\[\S+\] succeeded in \S+: (.*)$", re.M)
        return finished.findall(self._new_log())


@pytest.fixture
def worker(celery_worker_process, smtp_sink) -> Worker:
    return Worker(celery_worker_process, smtp_sink)


def _link(message: Message) -> str:
    text = message.get_payload()[0].get_payload(decode=True).decode()
    return re.search(r"^Answer the survey: (\S+)", text, re.MULTILINE).group(1)


def test_a_send_to_120_people_reaches_each_address_exactly_once(worker, survey, staff_user):
    # given
    people = worker.people(PEOPLE)
    # when: staff queue the send; the worker writes the invitations and sends the emails
    batch = invitation_batch_create(survey=survey, created_by=staff_user, recipients=people)
    # then: one email per address, each with its own personal link
    delivered = worker.wait_for_deliveries(PEOPLE)
    assert len(delivered) == PEOPLE
    assert sorted(m["To"] for m in delivered) == sorted(email for email, _name in people)
    assert len({_link(m) for m in delivered}) == PEOPLE
    assert wait_until(lambda: InvitationBatch.objects.get(pk=batch.pk).status == BatchStatus.DONE)
    batch.refresh_from_db()
    assert batch.total == PEOPLE
    assert SurveyInvitation.objects.filter(batch=batch, sent_at__isnull=False).count() == PEOPLE
    assert wait_until(
        lambda: OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == PEOPLE, timeout=10
    )
    assert OutboundEmail.objects.count() == PEOPLE

    # when: the batch task is delivered again, as after a worker died between sending
    # the last chunk and recording the batch done
    InvitationBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SENDING)
    again = invitation_batch_send_task.delay(batch_id=batch.pk)
    # then: every invitation is already sent, so nothing is queued
    assert worker.result_of(again.id) == "0"
    assert InvitationBatch.objects.get(pk=batch.pk).status == BatchStatus.DONE

    # when: the chunk's send task is delivered again, as after a worker died between the
    # SMTP conversation and acknowledging the task
    redelivered = outbox_send_many_task.delay(
        email_ids=list(OutboundEmail.objects.values_list("pk", flat=True))
    )
    # then: each row is claimed on its own, and a sent row cannot be claimed
    assert worker.result_of(redelivered.id) == "0"
    assert len(worker.delivered_after_a_pause()) == PEOPLE

    # when: the beat sweep looks for unsent email, however recent
    requeued = outbox_redrive(older_than=timedelta(0))
    # then: a sent row is never sent again
    assert requeued == 0
    assert len(worker.delivered_after_a_pause()) == PEOPLE
    assert OutboundEmail.objects.exclude(status=EmailStatus.SENT).count() == 0


class BatchProcessLost(Exception):
    """Stands in for the process running a batch being killed mid-way."""


def test_a_send_cut_short_mid_batch_is_finished_by_the_worker_without_duplicates(
    worker, survey, settings, monkeypatch
):
    # given: a batch of 120 is being written here in chunks of 25, and the process is
    # lost while writing the third chunk (its transaction rolls back, as a kill's would)
    people = worker.people(PEOPLE)
    batch = InvitationBatchFactory(
        survey=survey, recipients=[[email, name] for email, name in people]
    )
    settings.CHORUS = {**settings.CHORUS, "INVITATION_CHUNK": 25}
    written = []
    real_invitation_email = invitations._invitation_email

    def lost_on_the_51st(**kwargs):
        if len(written) == 50:
            raise BatchProcessLost
        written.append(kwargs["invitation"].email)
        return real_invitation_email(**kwargs)

    # Patched where invitation_batch_send looks it up, the module that defines it.
    monkeypatch.setattr(invitations, "_invitation_email", lost_on_the_51st)
    with pytest.raises(BatchProcessLost):
        invitation_batch_send(batch_id=batch.pk)
    monkeypatch.undo()
    # then: the two committed chunks went out through the worker, one connection each
    assert len(worker.wait_for_deliveries(50)) == 50
    assert SurveyInvitation.objects.filter(batch=batch).count() == 50
    assert InvitationBatch.objects.get(pk=batch.pk).status == BatchStatus.SENDING

    # when: the batch task is delivered again and the worker runs it to the end
    again = invitation_batch_send_task.delay(batch_id=batch.pk)
    # then: only the 70 not yet sent go out, so everyone has exactly one email
    assert worker.result_of(again.id) == "70"
    delivered = worker.wait_for_deliveries(PEOPLE)
    assert sorted(m["To"] for m in delivered) == sorted(email for email, _name in people)
    assert sorted(worker.results_of("communities.outbox.tasks.outbox_send_many_task")) == [
        "25",
        "25",
        "70",
    ]
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE and batch.total == PEOPLE
    assert wait_until(
        lambda: OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == PEOPLE, timeout=10
    )
    assert outbox_redrive(older_than=timedelta(0)) == 0
