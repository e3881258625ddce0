"""The anonymous mixing pool through a real Celery worker, when Redis or the worker dies.

Each worker test has a Redis of its own on a free port (`own_broker`) and its own worker
processes (`own_workers`), so it can crash that Redis or SIGKILL a worker without touching
the shared server or another test's worker. A crash of Redis (no persistence, as in CI)
loses every queued task; a SIGKILLed worker's task is not redelivered before the broker's
visibility timeout (an hour). Either way the beat's sweep is what finishes the work, and
every pooled answer must end up as exactly one Response, every member credited once.

Where a test needs a worker stopped at an exact point, a transaction of the test holds a
row the worker needs next (`held_in_another_transaction`), and the test waits until
PostgreSQL shows the worker's backend blocked on it before killing anything.
"""

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from feedback.models import Case
from rewards.choices import LedgerReason
from rewards.models import LedgerEntry
from surveys.choices import Anonymity, QuestionType
from surveys.models import Answer, Participation, PooledAnswer, Response, Survey
from surveys.services.pool import anonymous_points_release, anonymous_pool_release
from surveys.services.responses import response_submit, survey_points_key
from surveys.tasks import anonymous_pool_release_task, anonymous_pool_sweep_task
from tests.factories.communities import MemberFactory
from tests.factories.surveys import ParticipationFactory, PooledAnswerFactory
from tests.surveys.helpers import answers_for, question_of
from tests.worker_fixtures import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# The follow-up rule that opens a case for a pooled answer: NPS 6 or lower (the default).
DETRACTOR_AT_MOST = 6
RELEASE = anonymous_pool_release_task.name
# Enough pooled answers that writing them takes the worker a noticeable time.
LARGE_POOL = 300


@pytest.fixture
def anonymous_survey(survey):
    survey.anonymity = Anonymity.ANONYMOUS
    survey.anonymous_points = True
    survey.points = 25
    survey.save()
    return survey


def nps_of(n: int) -> int:
    return n % 11


def note_of(n: int) -> str:
    # Neutral to the sentiment lexicon, and unique, so each answer can be found once.
    return f"note {n:04d}"


def answer(survey, member, n: int):
    """The member's n-th answer to the anonymous survey, as the respondent page submits it."""
    data = answers_for(survey, nps=nps_of(n), text=note_of(n))
    key = data.pop("idempotency_key")
    return response_submit(survey=survey, raw_answers=data, idempotency_key=key, member=member)


def pooled_already(survey, people) -> list[int]:
    """What requests leave behind when these members have answered: each answer in the pool,
    naming nobody, and each member's points owed on their participation."""
    nps = question_of(survey, QuestionType.NPS)
    stars = question_of(survey, QuestionType.STAR)
    why = question_of(survey, QuestionType.SINGLE_CHOICE)
    text = question_of(survey, QuestionType.TEXT)
    coffee = why.choices.order_by("position").first()
    for n, member in enumerate(people):
        ParticipationFactory(survey=survey, member=member, points_pending=survey.points)
        PooledAnswerFactory(
            survey=survey,
            answers={
                str(nps.pk): {"number": nps_of(n)},
                str(stars.pk): {"number": 4},
                str(why.pk): {"choice_ids": [coffee.pk]},
                str(text.pk): {"text": note_of(n)},
            },
        )
    return list(range(len(people)))


def assert_each_answer_released_once(survey, people, answered: list[int]) -> None:
    """Every pooled answer is exactly one Response, the pool is empty, each detractor has one
    case, and each member was credited once and is owed nothing."""
    assert not PooledAnswer.objects.exists()
    assert Response.objects.filter(survey=survey).count() == len(answered)
    texts = Answer.objects.filter(question_type=QuestionType.TEXT).values_list("text", flat=True)
    assert sorted(texts) == sorted(note_of(n) for n in answered)
    detractors = sum(nps_of(n) <= DETRACTOR_AT_MOST for n in answered)
    assert Case.objects.count() == detractors
    assert (
        Case.objects.filter(
            response__answers__question_type=QuestionType.NPS,
            response__answers__number__lte=DETRACTOR_AT_MOST,
        ).count()
        == detractors
    )
    credited = Counter(LedgerEntry.objects.values_list("member_id", flat=True))
    assert credited == Counter({member.pk: 1 for member in people})
    assert set(LedgerEntry.objects.values_list("points", flat=True)) == {survey.points}
    assert not Participation.objects.filter(points_pending__gt=0).exists()


def release_settled(survey, count: int) -> Callable[[], bool]:
    return lambda: (
        Response.objects.filter(survey=survey).count() == count
        and not PooledAnswer.objects.exists()
        and not Participation.objects.filter(points_pending__gt=0).exists()
    )


def result_of(worker, task_id: str) -> str:
    """What a task returned, once the worker logs that it finished."""
    finished = re.compile(rf"\[{task_id}\] succeeded in \S+: (.*)$", re.MULTILINE)
    assert wait_until(lambda: finished.search(worker.log_text())), worker.log_text()[-3000:]
    return finished.search(worker.log_text()).group(1)


def results_of(worker, task_name: str) -> list[str]:
    """What each finished run of a task returned, in the order the worker logged them."""
    finished = re.compile(rf"{re.escape(task_name)}\[\S+\] succeeded in \S+: (.*)$", re.MULTILINE)
    return finished.findall(worker.log_text())


def queue_length(server) -> int:
    """Tasks waiting in the worker's queue on that Redis."""
    return redis.Redis.from_url(server.url).llen(settings.CELERY_TASK_DEFAULT_QUEUE)


def _scalar(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def responses_inserted() -> int:
    """Responses inserted by anyone, committed or not: a sequence is not transactional."""
    return _scalar(
        "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence(%s, 'id')), 0)",
        [Response._meta.db_table],
    )


def open_writers() -> list[int]:
    """Backends of other connections with a transaction that has written or locked rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        return [pid for (pid,) in cursor.fetchall()]


def waiting_on(pid: int) -> list[int]:
    """Backends blocked on a lock that backend `pid` holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid]
        )
        return [blocked for (blocked,) in cursor.fetchall()]


def gone(pids: list[int]) -> Callable[[], bool]:
    return lambda: not _scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])


@contextmanager
def held_in_another_transaction(hold: Callable[[], object]) -> Iterator[int]:
    """Run `hold` in a transaction on another connection and keep that transaction open (its
    locks held, its writes uncommitted) until the block ends; then roll it back. Yields the
    backend pid of that connection."""
    ready, finish = threading.Event(), threading.Event()
    held: dict[str, object] = {}

    def run() -> None:
        try:
            with transaction.atomic():
                hold()
                held["pid"] = _scalar("SELECT pg_backend_pid()")
                ready.set()
                finish.wait(timeout=120)
                transaction.set_rollback(True)
        except Exception as exc:  # noqa: BLE001 - handed to the test below
            held["error"] = exc
            ready.set()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert ready.wait(timeout=30)
        if "error" in held:
            raise held["error"]
        yield held["pid"]
    finally:
        finish.set()
        thread.join(timeout=60)


# --- Redis crashes ---------------------------------------------------------------------


@pytest.mark.worker
def test_answers_given_while_redis_is_down_are_released_once_by_the_sweep_after_it_restarts(
    own_broker, own_workers, anonymous_survey, community, caplog
):
    # given: a worker over the test's own Redis; five members answered while it was up, and
    # the release the fifth answer enqueued has gone through the worker
    worker = own_workers()
    people = MemberFactory.create_batch(15, community=community)
    for n, member in enumerate(people[:5]):
        assert answer(anonymous_survey, member, n).pooled
    assert wait_until(lambda: results_of(worker, RELEASE) == ["5"]), worker.log_text()[-3000:]
    assert release_settled(anonymous_survey, 5)()

    # when: Redis crashes, and ten more members answer
    own_broker.crash()
    slowest = 0.0
    with caplog.at_level(logging.INFO, logger="config.queue"):
        for n, member in enumerate(people[5:], start=5):
            started = time.monotonic()
            result = answer(anonymous_survey, member, n)
            slowest = max(slowest, time.monotonic() - started)
            assert result.pooled and result.created

    # then: each answer was taken at once and waits in the pool; every release it became
    # due for was lost with the broker, and the requests did not fail for it
    assert slowest < 5, "a dead broker must not hold the request"
    assert PooledAnswer.objects.count() == 10
    assert Response.objects.count() == 5
    # the first publish fails; the breaker then leaves the rest to the sweep at once
    tried = [r for r in caplog.records if "Could not enqueue" in r.getMessage()]
    skipped = [r for r in caplog.records if "left to the sweep" in r.getMessage()]
    assert len(tried) == 1
    assert len(tried) + len(skipped) == 6  # the fifth to the tenth answer in the pool
    assert all("anonymous_pool_release_task" in r.getMessage() for r in tried + skipped)

    # when: Redis starts again on its port (empty), the worker reconnects, and the beat
    # sends its sweep
    own_broker.start()
    assert wait_until(lambda: worker.log_text().count("Connected to redis://") >= 2, timeout=60)
    sweep = anonymous_pool_sweep_task.delay()

    # then: every answer is released once, and every member credited once
    assert result_of(worker, sweep.id) == "1"
    assert wait_until(release_settled(anonymous_survey, 15)), worker.log_text()[-3000:]
    assert_each_answer_released_once(anonymous_survey, people, list(range(15)))

    # and a redelivered release and the next sweep change nothing
    again = anonymous_pool_release_task.delay(survey_id=anonymous_survey.pk)
    assert result_of(worker, again.id) == "0"
    assert result_of(worker, anonymous_pool_sweep_task.delay().id) == "0"
    assert_each_answer_released_once(anonymous_survey, people, list(range(15)))
    assert results_of(worker, RELEASE) == ["5", "10", "0"]


@pytest.mark.worker
def test_a_release_running_when_redis_crashes_commits_once_and_the_sweep_finishes_the_rest(
    own_broker, own_workers, anonymous_survey, community
):
    # given: a worker over the test's own Redis; another transaction holds the survey's row
    # for an update (as staff saving the survey would) while five members answer, so the
    # release the fifth answer enqueued is running in the worker, blocked on that row
    worker = own_workers()
    people = MemberFactory.create_batch(16, community=community)
    with held_in_another_transaction(
        lambda: list(Survey.objects.select_for_update(no_key=True).filter(pk=anonymous_survey.pk))
    ) as holder:
        for n, member in enumerate(people[:5]):
            answer(anonymous_survey, member, n)
        assert wait_until(lambda: waiting_on(holder)), worker.log_text()[-3000:]
        # and five more answer: their releases wait in Redis behind the running one
        for n, member in enumerate(people[5:10], start=5):
            answer(anonymous_survey, member, n)
        assert queue_length(own_broker) == 5

        # when: Redis crashes (the queued releases are lost, the running one can never be
        # acknowledged), then the row is let go
        own_broker.crash()

    # then: the running release commits the ten answers it finds, once, and their points
    assert wait_until(release_settled(anonymous_survey, 10)), worker.log_text()[-3000:]

    # when: six more members answer while Redis is still down (their release is lost too),
    # Redis starts again, the worker reconnects and the beat sends its sweep
    for n, member in enumerate(people[10:], start=10):
        assert answer(anonymous_survey, member, n).pooled
    assert PooledAnswer.objects.count() == 6
    own_broker.start()
    assert wait_until(lambda: worker.log_text().count("Connected to redis://") >= 2, timeout=60)
    sweep = anonymous_pool_sweep_task.delay()

    # then: the six are released too, and nothing twice
    assert result_of(worker, sweep.id) == "1"
    assert wait_until(release_settled(anonymous_survey, 16)), worker.log_text()[-3000:]
    assert_each_answer_released_once(anonymous_survey, people, list(range(16)))
    assert result_of(worker, anonymous_pool_sweep_task.delay().id) == "0"
    assert wait_until(lambda: results_of(worker, RELEASE) == ["10", "6"], timeout=10)


# --- a worker killed ------------------------------------------------------------------


@pytest.mark.worker
def test_a_worker_killed_while_writing_a_release_loses_and_duplicates_no_answer(
    own_workers, anonymous_survey, community
):
    # given: 300 members' answers wait in the pool, their points owed
    people = MemberFactory.create_batch(LARGE_POOL, community=community)
    answered = pooled_already(anonymous_survey, people)
    worker = own_workers()
    before = responses_inserted()

    # when: the worker takes the release, and is SIGKILLed once its (uncommitted)
    # transaction has written a quarter of the responses
    anonymous_pool_release_task.delay(survey_id=anonymous_survey.pk)
    assert wait_until(
        lambda: responses_inserted() >= before + LARGE_POOL // 4, timeout=60, interval=0.005
    ), worker.log_text()[-3000:]
    writers = open_writers()
    worker.kill()

    # then: its transaction rolled back: every answer still waits, no response, no points
    assert writers, "the release was not running when the worker was killed"
    assert wait_until(gone(writers), timeout=30)
    assert responses_inserted() < before + LARGE_POOL, "the release finished before the kill"
    assert PooledAnswer.objects.count() == LARGE_POOL
    assert not Response.objects.exists() and not Case.objects.exists()
    assert not LedgerEntry.objects.exists()

    # when: a new worker starts and the beat sends its sweep
    worker = own_workers()
    sweep = anonymous_pool_sweep_task.delay()

    # then: each answer is one response, each member credited once
    assert result_of(worker, sweep.id) == "1"
    assert wait_until(release_settled(anonymous_survey, LARGE_POOL), timeout=120)
    assert_each_answer_released_once(anonymous_survey, people, answered)
    assert wait_until(lambda: results_of(worker, RELEASE) == [str(LARGE_POOL)], timeout=10)
    assert result_of(worker, anonymous_pool_sweep_task.delay().id) == "0"


@pytest.mark.worker
def test_a_worker_killed_between_the_release_and_the_points_credits_each_member_once(
    own_workers, anonymous_survey, community
):
    # given: twenty answers wait in the pool; one participation's row is held, so the
    # worker's points transaction will wait for it
    people = MemberFactory.create_batch(20, community=community)
    answered = pooled_already(anonymous_survey, people)
    worker = own_workers()
    one = Participation.objects.filter(member=people[7])
    with held_in_another_transaction(lambda: list(one.select_for_update())) as holder:
        # when: the worker releases the answers (committed) and is SIGKILLed while its
        # points transaction waits
        anonymous_pool_release_task.delay(survey_id=anonymous_survey.pk)
        assert wait_until(lambda: waiting_on(holder)), worker.log_text()[-3000:]
        assert Response.objects.count() == 20 and not PooledAnswer.objects.exists()
        blocked = waiting_on(holder)
        worker.kill()
    assert wait_until(gone(blocked), timeout=30)

    # then: the answers stay released; no member was credited, all are still owed
    assert Response.objects.count() == 20
    assert not LedgerEntry.objects.exists()
    assert Participation.objects.filter(points_pending=anonymous_survey.points).count() == 20

    # when: a new worker starts and the beat sends its sweep
    worker = own_workers()
    sweep = anonymous_pool_sweep_task.delay()

    # then: the release is not repeated, and each member is credited once
    assert result_of(worker, sweep.id) == "1"
    assert wait_until(release_settled(anonymous_survey, 20))
    assert_each_answer_released_once(anonymous_survey, people, answered)
    assert wait_until(lambda: results_of(worker, RELEASE) == ["0"], timeout=10)


@pytest.mark.worker
def test_a_worker_killed_while_crediting_points_credits_each_member_once(
    own_workers, anonymous_survey, community
):
    # given: twenty answers wait in the pool; a transaction of the test is writing one
    # member's ledger entry, so the worker's points transaction stops at that member,
    # somewhere in its shuffled order, with the credits before it written but uncommitted
    people = MemberFactory.create_batch(20, community=community)
    answered = pooled_already(anonymous_survey, people)
    worker = own_workers()
    key = survey_points_key(survey_id=anonymous_survey.pk, member_id=people[7].pk)
    with held_in_another_transaction(
        lambda: LedgerEntry.objects.create(
            organisation=anonymous_survey.organisation,
            member=people[7],
            points=1,
            reason=LedgerReason.SURVEY_COMPLETED,
            idempotency_key=key,
        )
    ) as holder:
        # when: the worker releases the answers and is SIGKILLed mid-way through the points
        anonymous_pool_release_task.delay(survey_id=anonymous_survey.pk)
        assert wait_until(lambda: waiting_on(holder)), worker.log_text()[-3000:]
        blocked = waiting_on(holder)
        worker.kill()
    # (the test's own entry is rolled back as the block ends)
    assert wait_until(gone(blocked), timeout=30)

    # then: no credit was committed, all are still owed
    assert Response.objects.count() == 20
    assert not LedgerEntry.objects.exists()
    assert Participation.objects.filter(points_pending=anonymous_survey.points).count() == 20

    # when: a new worker starts and the beat sends its sweep
    worker = own_workers()
    sweep = anonymous_pool_sweep_task.delay()

    # then: each member is credited once, and the answers were not released again
    assert result_of(worker, sweep.id) == "1"
    assert wait_until(release_settled(anonymous_survey, 20))
    assert_each_answer_released_once(anonymous_survey, people, answered)
    assert wait_until(lambda: results_of(worker, RELEASE) == ["0"], timeout=10)


# --- two releases at once, no worker ---------------------------------------------------


def test_two_releases_at_once_release_each_answer_and_credit_each_member_once(
    anonymous_survey, community
):
    # given: forty answers wait in the pool
    people = MemberFactory.create_batch(40, community=community)
    answered = pooled_already(anonymous_survey, people)
    barrier = threading.Barrier(2)
    released: list[int] = []

    def release() -> None:
        # what the task does, as a redelivered task and the sweep's would at the same time
        barrier.wait()
        try:
            released.append(anonymous_pool_release(survey_id=anonymous_survey.pk))
            anonymous_points_release(survey_id=anonymous_survey.pk)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=release) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then: one release took them all, the other found nothing due
    assert sorted(released) == [0, 40]
    assert_each_answer_released_once(anonymous_survey, people, answered)
