"""`make bench-followup`: detractor → case → follow-up email, through a real worker.

One scripted run, in production shape: gunicorn (-w 2 sync) with REDIS_URL set, a real
Celery worker (solo pool: one process, one SMTP connection at a time) and the loopback SMTP
sink (bench/smtp_sink.py), which records every message it accepts with its time and
Message-ID. Each outbox row stores its Message-ID, so each email at the sink is joined to
its row exactly.

* paced  - full survey submits at 20/s (every one a detractor who ticks consent: each
           opens a case and writes a follow-up), the worker restarted halfway as a deploy
           does (a new one started, then SIGTERM to the old). Figure: p50/p95/p99 from
           the outbox row's write (inside the submit) to the sink's accept; checks: every
           submit 302, an email per row, 0 lost, 0 duplicated.
* burst  - 2,000 follow-ups written in one transaction (their send tasks published on
           commit, one per OUTBOX_BATCH_SIZE rows) while the worker is stopped. Figure: the
           drain in emails/s, from a worker being ready to the last accept, beside a plain smtplib
           loop sending the same messages over one connection to the same sink (target
           >= 0.5x).
* kill   - the same burst, the worker SIGKILLed once a share of it is out (several runs,
           each at another point); a new worker starts, the sweep takes over the dead
           worker's claims (only claims made before the kill). Counts per run: lost (must
           be 0) and duplicated, each duplicate checked to be a row that was mid-send at
           the kill (its accept came before its row's update).
* sentiment - texts/s of surveys.sentiment per language beside bare TextBlob.

PostgreSQL by default (synchronous_commit=on); `--db sqlite` for the embedded default (the
burst and the kills; SQLite serves one writer at a time).
"""

from __future__ import annotations

import argparse
import collections
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    PYTHON,
    VENV_BIN,
    Json,
    Run,
    Sink,
    add_check,
    chorus_env,
    csrf_pair,
    free_port,
    host,
    last_json_line,
    log,
    log_wait,
    manage,
    migrate,
    pg_recreate,
    pg_settings,
    pg_url,
    print_checks,
    run,
    server,
    sqlite_fresh,
    status_text,
)
from bench.load import BARE, DETRACTOR_SLOTS, chorus_bodies  # noqa: E402

PG_DB = "chorus_outbox_bench"
# The bench's own Redis database on the shared server (flushed at the start of a run).
REDIS_URL = "redis://127.0.0.1:6379/8"


# --- Django snippets run in the app's own process (`manage.py shell -c`) ------------------

BURST_WRITE = """
import json, time
from django.db import transaction
from communities.models import Organisation
from communities.outbox.services import outbox_enqueue
org = Organisation.objects.order_by("pk").first()
stamp = {}
with transaction.atomic():
    # Registered first, so it runs first after the commit, before the tasks are published.
    transaction.on_commit(lambda: stamp.setdefault("committed", time.time()))
    for n in range(%(n)d):
        outbox_enqueue(
            organisation=org, to_email=f"%(label)s-{n}@example.com", template="followup",
            context={"organisation_name": org.name, "survey_title": "Visit", "name": "Ana"},
            language="en", idempotency_key=f"bench:%(label)s:{n}", new_key=True,
        )
print(json.dumps({**stamp, "published": time.time()}))
"""

ROWS = """
import json
from communities.outbox.models import OutboundEmail
rows = OutboundEmail.objects.filter(%(filter)s)
print(json.dumps({
    "rows": [[r.message_id, r.created_at.timestamp(), r.status]
             for r in rows.only("message_id", "created_at", "status")],
}))
"""

# The floor: the very messages the outbox sends (built before the clock starts), handed to
# smtplib over one connection. No database, no worker, no Celery.
BASELINE = """
import json, smtplib, time
from django.conf import settings
from communities.outbox.models import OutboundEmail
from communities.outbox.sending import _message
raw = []
for email in OutboundEmail.objects.filter(idempotency_key__startswith="bench:%(label)s:"):
    message = _message(email, connection=None).message()
    message.replace_header("Message-ID", f"<baseline-{email.pk}@bench>")
    raw.append((email.to_email, message.as_bytes(linesep="\\r\\n")))
started = time.time()
with smtplib.SMTP("127.0.0.1", %(port)d) as smtp:
    for to, data in raw:
        smtp.sendmail(settings.DEFAULT_FROM_EMAIL, [to], data)
ended = time.time()
print(json.dumps({"messages": len(raw), "start": started, "end": ended}))
"""

TAKEOVER = """
import json
from datetime import UTC, datetime, timedelta
from django.utils import timezone
from communities.outbox.services import outbox_redrive
# Claims made before the kill are abandoned (that worker is gone); later ones are the new
# worker's and are left alone.
cutoff = datetime.fromtimestamp(%(cutoff)f, UTC)
queued = outbox_redrive(older_than=timedelta(0), stale_after=timezone.now() - cutoff)
print(json.dumps({"queued": queued}))
"""


def shell(code: str, env: dict[str, str], timeout: float = 300) -> Json:
    return last_json_line(run([PYTHON, "manage.py", "shell", "-c", code], env=env, timeout=timeout))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Worker:
    """A `celery worker` (solo pool) this run can stop, restart and SIGKILL, by its PID."""

    def __init__(self, procs, env: dict[str, str]) -> None:
        self.procs, self.env, self.proc, self.n = procs, env, None, 0

    def start(self) -> None:
        self.n += 1
        name = f"worker-{self.n}"
        cmd = [str(VENV_BIN / "celery"), "-A", "config", "worker", "--pool=solo", "-Q", "chorus"]
        cmd += ["-n", f"bench-followup-{self.n}@%h", "--loglevel=INFO"]
        cmd += ["--without-gossip", "--without-mingle"]
        self.proc = self.procs.start(name, cmd, env=self.env)
        log_wait(self.procs.log_dir / f"{name}.log", "ready.", self.proc)

    def stop(self) -> None:
        self.procs.stop(self.proc, timeout=60)

    def restart(self) -> None:
        """As a deploy does: the new worker is up before the old one is told to stop
        (SIGTERM: it finishes the task in hand; what it had reserved goes back to Redis)."""
        old = self.proc
        self.start()
        self.procs.stop(old, timeout=60)

    def kill(self) -> float:
        os.kill(self.proc.pid, signal.SIGKILL)
        killed = time.time()
        self.proc.wait(timeout=10)
        self.procs.running = [(n, p) for n, p in self.procs.running if p is not self.proc]
        log(f"worker SIGKILLed (pid {self.proc.pid})")
        return killed


def sink_of(sink: Sink, prefix: str) -> list[tuple[float, str, str, int]]:
    return [m for m in sink.messages() if m[1].startswith(prefix)]


def wait_rows_sent(env: dict[str, str], label: str, n: int, timeout: float) -> list:
    deadline = time.monotonic() + timeout
    while True:
        rows = shell(ROWS % {"filter": f"idempotency_key__startswith='bench:{label}:'"}, env)[
            "rows"
        ]
        if sum(r[2] == "sent" for r in rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(2)


def wait_sink(sink: Sink, prefix: str, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(sink_of(sink, prefix)) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # anything still in flight lands


def delivery_checks(checks: list[Json], rows: list, accepted: list, what: str) -> Json:
    wanted = {r[0] for r in rows}
    seen = collections.Counter(m[2] for m in accepted)
    lost = len(wanted - set(seen))
    dupes = sum(n - 1 for mid, n in seen.items() if mid in wanted and n > 1)
    add_check(checks, f"{what}: 0 lost", lost == 0, f"rows={len(wanted)} lost={lost}")
    return {"rows": len(wanted), "lost": lost, "duplicated": dupes, "counts": seen}


# --- the figures -------------------------------------------------------------------------


def paced(args, procs, env: dict[str, str], sink: Sink, worker: Worker, workdir: Path) -> Json:
    """20 submits/s through gunicorn; the worker restarted halfway."""
    sessions_file = workdir / "sessions.txt"
    total = int(args.rate * args.paced_seconds)
    seed = manage(
        "bench_seed",
        "--members",
        str(total + 50),
        "--surveys",
        "paced",
        "--sessions-out",
        str(sessions_file),
        env=env,
        timeout=600,
    )
    survey = seed["surveys"]["paced"]
    sessions = sessions_file.read_text().split()
    port = free_port()
    path = f"/s/{survey['public_id']}/"
    statuses: collections.Counter = collections.Counter()
    with server(procs, "gunicorn", env, port, BARE):
        csrf_cookie, token = csrf_pair(port, path)
        bodies = chorus_bodies(survey, token)
        detractor = [bodies[i] for i in DETRACTOR_SLOTS]
        started = time.monotonic() + 0.5
        lock = threading.Lock()

        def client(k: int, lanes: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for i in range(k, total, lanes):
                delay = started + i / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                body = detractor[i % len(detractor)].replace("__KEY__", f"paced-{i}")
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"{csrf_cookie}; {sessions[i]}",
                }
                try:
                    conn.request("POST", path, body, headers)
                    resp = conn.getresponse()
                    resp.read()
                    status = resp.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    status = 0
                with lock:
                    statuses[status] += 1
            conn.close()

        lanes = 4
        threads = [threading.Thread(target=client, args=(k, lanes)) for k in range(lanes)]
        for t in threads:
            t.start()
        time.sleep(args.paced_seconds / 2)
        log("restarting the worker mid-run (a new one, then SIGTERM to the old)")
        worker.restart()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    counts = manage("bench_check", f"--survey={survey['public_id']}", env=env)
    deadline = time.monotonic() + 120
    while counts["outbox_sent"] < counts["outbox"] and time.monotonic() < deadline:
        time.sleep(2)
        counts = manage("bench_check", f"--survey={survey['public_id']}", env=env)
    rows = shell(ROWS % {"filter": "template='followup'"}, env)["rows"]
    wanted = {r[0]: r[1] for r in rows}
    time.sleep(1)  # anything still in flight lands
    accepted = [m for m in sink.messages() if m[2] in wanted]
    first = {}
    for stamp, _to, mid, _size in accepted:
        first.setdefault(mid, stamp)
    latencies = [(first[mid] - wanted[mid]) * 1000 for mid in first]
    checks: list[Json] = []
    ok_requests = statuses.get(302, 0)
    add_check(
        checks, "every submit answered 302", ok_requests == total, f"statuses={dict(statuses)}"
    )
    add_check(
        checks,
        "a case and a follow-up row per detractor",
        counts["cases"] == counts["outbox"] == total,
        f"submits={total} cases={counts['cases']} outbox={counts['outbox']}",
    )
    mail = delivery_checks(checks, rows, accepted, "paced")
    add_check(checks, "paced: 0 duplicated", mail["duplicated"] == 0, f"dup={mail['duplicated']}")
    return {
        "submits": total,
        "rate_offered": args.rate,
        "rate_achieved": round(total / elapsed, 1),
        "latency_ms": {
            p: round(percentile(latencies, q), 1)
            for p, q in (("p50", 50), ("p95", 95), ("p99", 99))
        },
        "lost": mail["lost"],
        "duplicated": mail["duplicated"],
        "checks": checks,
    }


def burst(args, env: dict[str, str], sink: Sink, worker: Worker) -> Json:
    """2,000 rows at once, drained by the worker; then the plain smtplib loop, same sink.

    The burst is written (and its 2,000 tasks published) while the worker is stopped, and
    the clock starts when a worker is ready: the figure is the drain of the backlog, not
    the publisher's speed (on this 2-CPU box publishing 2,000 tasks competes for the CPU
    with the worker draining them). The rate from the commit is reported beside it.
    """
    label = "burst"
    worker.stop()
    wrote = shell(BURST_WRITE % {"n": args.burst, "label": label}, env)
    worker.start()
    ready = time.time()
    # The sink's file is watched, not the database: a `manage.py shell` every 2 s to count
    # rows costs a CPU-second each on this box, taken from the worker being measured.
    wait_sink(sink, f"{label}-", args.burst, args.drain_timeout)
    rows = wait_rows_sent(env, label, args.burst, 30)
    accepted = sink_of(sink, f"{label}-")
    last = max((m[0] for m in accepted), default=ready)
    rate = len(accepted) / (last - ready)
    checks: list[Json] = []
    mail = delivery_checks(checks, rows, accepted, "burst")
    add_check(checks, "burst: 0 duplicated", mail["duplicated"] == 0, f"dup={mail['duplicated']}")
    # Twice, right after the drain and once more: the box is shared, so the floor is the
    # mean of two samples rather than one lucky or unlucky moment.
    bases = [shell(BASELINE % {"label": label, "port": sink.port}, env) for _ in range(2)]
    base_rates = [b["messages"] / (b["end"] - b["start"]) for b in bases]
    base_rate = statistics.mean(base_rates)
    ratio = rate / base_rate
    add_check(checks, "burst >= 0.5x the one-connection loop", ratio >= 0.5, f"{ratio:.2f}x")
    return {
        "emails": args.burst,
        "rate": round(rate, 1),
        "publish_s": round(wrote["published"] - wrote["committed"], 2),
        "rate_from_commit": round(len(accepted) / (last - wrote["committed"]), 1),
        "baseline_rate": round(base_rate, 1),
        "baseline_samples": [round(r, 1) for r in base_rates],
        "ratio": round(ratio, 2),
        "lost": mail["lost"],
        "duplicated": mail["duplicated"],
        "checks": checks,
    }


def kills(args, env: dict[str, str], sink: Sink, worker: Worker) -> Json:
    """A SIGKILL during the burst, at a different point each run."""
    results, checks = [], []
    rng = random.Random(args.seed)
    for k in range(args.kills):
        label = f"kill{k}"
        share = rng.uniform(0.15, 0.75)
        shell(BURST_WRITE % {"n": args.burst, "label": label}, env)
        target = int(args.burst * share)
        deadline = time.monotonic() + args.drain_timeout
        while len(sink_of(sink, f"{label}-")) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        killed = worker.kill()
        at_kill = len(sink_of(sink, f"{label}-"))
        snapshot = shell(
            ROWS % {"filter": f"idempotency_key__startswith='bench:{label}:', status='sending'"},
            env,
        )["rows"]
        in_flight = {r[0] for r in snapshot}
        worker.start()
        # What beat does every OUTBOX_SWEEP_SECONDS once the claims are stale; run now, for
        # claims made before the kill only, to keep the run short.
        shell(TAKEOVER % {"cutoff": killed + 0.05}, env)
        rows = wait_rows_sent(env, label, args.burst, args.drain_timeout)
        wait_sink(sink, f"{label}-", args.burst, 30)
        accepted = sink_of(sink, f"{label}-")
        mail = delivery_checks(checks, rows, accepted, f"kill run {k + 1}")
        twice = {mid for mid, n in mail["counts"].items() if n > 1}
        in_window = len(twice & in_flight)
        add_check(
            checks,
            f"kill run {k + 1}: duplicates only of rows mid-send at the kill",
            twice <= in_flight,
            f"duplicated={mail['duplicated']} of which mid-send at the kill={in_window}",
        )
        results.append(
            {
                "killed_after": at_kill,
                "claimed_at_kill": len(in_flight),
                "lost": mail["lost"],
                "duplicated": mail["duplicated"],
                "duplicated_accept_before_update": in_window,
            }
        )
        log(f"kill run {k + 1}: {results[-1]}")
    return {"runs": results, "checks": checks}


def sentiment() -> Json:
    """Texts/s per language beside bare TextBlob (the labelled sets of bench-sentiment)."""
    code = (
        "import json, sys; sys.path.insert(0, '.');"
        "from bench.sentiment_accuracy import LANGUAGES, labelled, measure;"
        "from surveys.sentiment import sentiment_score;"
        "from textblob import TextBlob;"
        "out = {l: measure(labelled(l), sentiment_score)['per_second'] for l in LANGUAGES};"
        "out['textblob_en'] = measure(labelled('en'),"
        " lambda t: TextBlob(t).sentiment.polarity)['per_second'];"
        "print(json.dumps(out))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    return last_json_line(
        subprocess.run(
            [PYTHON, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--only", default="paced,burst,kill,sentiment")
    parser.add_argument("--rate", type=float, default=20.0, help="paced submits per second")
    parser.add_argument("--paced-seconds", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    args = parser.parse_args()
    only = set(args.only.split(","))
    bench_run = Run("followup")
    report: Json = {}
    context: Json = {}
    with bench_run.workdir() as workdir:
        procs = bench_run.procs
        if args.db == "postgresql":
            pg_recreate(PG_DB)
            context["postgresql"] = pg_settings(PG_DB)
            database_url = pg_url(PG_DB)
        else:
            db_path = workdir / "followup.sqlite3"
            sqlite_fresh(db_path)
            database_url = f"sqlite:///{db_path}"
        run(["redis-cli", "-n", "8", "flushdb"], env=os.environ.copy())
        sink = Sink(procs, "smtp-sink")
        env = {**chorus_env(database_url, REDIS_URL), "EMAIL_URL": sink.url}
        log(f"migrating ({args.db})")
        migrate(env)
        worker = Worker(procs, env)
        worker.start()
        if only & {"burst", "kill"} and "paced" not in only:
            # An organisation for the burst's rows (the paced part seeds its own).
            manage("bench_seed", "--members", "1", "--sessions-out", str(workdir / "s"), env=env)
        if "paced" in only:
            log(f"paced: {args.rate}/s for {args.paced_seconds}s")
            report["paced"] = paced(args, procs, env, sink, worker, workdir)
        if "burst" in only:
            log(f"burst of {args.burst}")
            report["burst"] = burst(args, env, sink, worker)
        if "kill" in only:
            log(f"{args.kills} kills during a burst of {args.burst}")
            report["kill"] = kills(args, env, sink, worker)
    if "sentiment" in only:
        report["sentiment"] = sentiment()
    checks = [
        c for part in report.values() if isinstance(part, dict) for c in part.get("checks", [])
    ]
    print()
    if "paced" in report:
        p = report["paced"]
        lat = p["latency_ms"]
        print(
            f"followup paced {args.db}: {p['submits']} submits at {p['rate_achieved']}/s, "
            f"submit->sink p50 {lat['p50']} ms p95 {lat['p95']} ms p99 {lat['p99']} ms, "
            f"lost {p['lost']} duplicated {p['duplicated']} (worker restarted mid-run)"
        )
    if "burst" in report:
        b = report["burst"]
        print(
            f"followup burst {args.db}: {b['emails']} emails drained at {b['rate']}/s vs plain "
            f"smtplib one-connection loop {b['baseline_rate']}/s = {b['ratio']}x "
            f"({b['rate_from_commit']}/s from the commit, publishing included)"
        )
    if "kill" in report:
        for n, r in enumerate(report["kill"]["runs"], 1):
            print(
                f"followup kill {args.db} run {n}: SIGKILL after {r['killed_after']} accepted "
                f"({r['claimed_at_kill']} rows claimed), lost {r['lost']}, duplicated "
                f"{r['duplicated']} (accept-before-update {r['duplicated_accept_before_update']})"
            )
    if "sentiment" in report:
        s = report["sentiment"]
        print("followup sentiment texts/s: " + ", ".join(f"{k} {v:.0f}" for k, v in s.items()))
    print_checks(checks)
    print(status_text(checks))
    ok = all(c["ok"] for c in checks)
    bench_run.save(
        {
            **bench_run.report(),
            "host": host("django", "gunicorn", "celery", "kombu", databases=context),
            "db": args.db,
            **report,
            "ok": ok,
        }
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
