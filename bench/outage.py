"""`make bench-outage`: survey submits while Redis goes down mid-load and comes back.

One scripted run on PostgreSQL, in production shape: gunicorn (-w 2 sync) with REDIS_URL
set (broker and cache), a real Celery worker, an SMTP sink receiving the follow-up emails,
and Redis a process of this run's own. wrk (-t1 -c8) posts full survey submits (each from a
different signed-in member, 30 % detractors who consent to a follow-up) in three phases, each
to its own survey:

* before  - Redis up (after a warm-up on a fourth survey);
* during  - Redis stopped (SIGKILL, as a crash) right before the phase starts;
* after   - Redis started again on the same port before the phase starts.

Then the re-drive sweeps run (`manage.py bench_sweep`, what beat runs every minute) until the
worker has analysed every response and sent every follow-up. Checks: no request failed in
any phase, rows written == requests accepted, cases == detractors, an outbox row per
consenting detractor, every response analysed, and at the SMTP sink every outbox row
arrived exactly once (0 lost, 0 duplicated, by Message-ID). The figure is each phase's p95
latency and its ratio to the phase before the outage (target: during <= 2x before).
"""

from __future__ import annotations

import collections
import os
import signal
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    REDIS_DB,
    Json,
    Run,
    Sink,
    add_check,
    base_env,
    celery_worker,
    chorus_env,
    free_port,
    host,
    log,
    manage,
    migrate,
    pg_recreate,
    pg_settings,
    pg_url,
    print_checks,
    redis_wait,
    server,
    status_text,
)
from bench.load import (  # noqa: E402
    BARE,
    DETRACTOR_SLOTS,
    Bench,
    Figure,
    chorus_bodies,
    chorus_checks,
    form_target,
    load_json,
    parse_wrk_args,
    wrk_parser,
)

PG_DB = "chorus_bench_outage"
PHASES = ("before", "during", "after")


class Redis:
    """A redis-server this run can kill and start again on the same port."""

    def __init__(self, procs, port: int) -> None:
        self.procs, self.port, self.proc = procs, port, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{REDIS_DB}"

    def start(self) -> None:
        cmd = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--save", "", "--appendonly", "no"]
        self.proc = self.procs.start("redis", cmd, env=base_env())
        redis_wait(self.port, self.proc)

    def crash(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.procs.running = [(n, p) for n, p in self.procs.running if p is not self.proc]
        log("redis-server killed")


class Outage(Bench):
    def run(self) -> Json:
        args = self.args
        pg_recreate(PG_DB)
        self.context["postgresql"] = pg_settings(PG_DB)
        redis = Redis(self.procs, free_port())
        redis.start()
        sink = Sink(self.procs, "smtp-sink")
        env = {**chorus_env(pg_url(PG_DB), redis.url), "EMAIL_URL": sink.url}
        if args.no_breaker:
            # A zero cooldown: every request tries Redis, as before the breaker existed.
            env["REDIS_BREAKER_SECONDS"] = "0"
        log(f"migrating and seeding {args.members} members")
        migrate(env)
        sessions = self.workdir / "sessions.txt"
        seed = manage(
            "bench_seed",
            "--members",
            str(args.members),
            "--surveys",
            ",".join(("warm", *PHASES)),
            "--sessions-out",
            str(sessions),
            env=env,
        )
        surveys = seed["surveys"]
        port = free_port()

        def target(label: str):
            survey = surveys[label]
            path = f"/s/{survey['public_id']}/"
            bodies = partial(chorus_bodies, survey)
            return form_target(port, path, bodies, location=f"{path}thanks/", sessions=sessions)

        with (
            celery_worker(self.procs, "celery-worker", env) as worker,
            server(self.procs, "gunicorn-chorus", env, port, BARE),
        ):
            self.measure(port, target("before"), "before", "postgresql", "Redis up", target("warm"))
            redis.crash()
            self.args.warmup = 0  # the outage's first requests are part of the figure
            self.measure(port, target("during"), "during", "postgresql", "Redis down")
            redis.start()
            log("redis-server started again")
            self.measure(port, target("after"), "after", "postgresql", "Redis back")
            drained = self.drain(env, surveys, worker)
        self.mail_checks(env, surveys, sink)
        return drained

    def counts(
        self, env: dict[str, str], surveys: Json, labels: tuple[str, ...] = PHASES
    ) -> dict[str, Json]:
        return {
            label: manage("bench_check", f"--survey={surveys[label]['public_id']}", env=env)
            for label in labels
        }

    def drain(self, env: dict[str, str], surveys: Json, worker) -> Json:
        """Run the sweeps every 5 s (beat would, every minute) until all work is done."""
        started = time.monotonic()
        deadline = started + self.args.drain_timeout
        sweeps = collections.Counter()
        while True:
            counts = self.counts(env, surveys)
            done = all(
                c["analysed"] >= c["responses"] and c["outbox_sent"] >= c["outbox"]
                for c in counts.values()
            )
            if done or time.monotonic() > deadline or worker.poll() is not None:
                break
            sweeps.update(manage("bench_sweep", env=env))
            time.sleep(5)
        for fig in self.figures:
            chorus_checks(fig, counts[fig.name])
        waited = time.monotonic() - started
        log(f"drained in {waited:.0f}s; the sweeps re-queued {dict(sweeps)}")
        return {"drain_s": round(waited, 1), "swept": dict(sweeps)}

    def mail_checks(self, env: dict[str, str], surveys: Json, sink: Sink) -> None:
        """Every outbox row reached the SMTP sink exactly once."""
        # The warm-up's follow-ups go to the same sink.
        counts = self.counts(env, surveys, ("warm", *PHASES))
        expected = sum(c["outbox"] for c in counts.values())
        sink.wait_for(expected, 30, [])
        ids = collections.Counter(message_id for _t, _to, message_id, _n in sink.messages())
        dupes = sum(n - 1 for n in ids.values() if n > 1)
        self.mail = []
        add_check(
            self.mail,
            "every follow-up delivered once (by Message-ID)",
            len(ids) == expected and dupes == 0,
            f"outbox rows={expected} distinct delivered={len(ids)} duplicates={dupes}",
        )

    def p95_checks(self) -> None:
        by = {f.name: f for f in self.figures}
        base = by["before"].wrk["latency_us"]["p95"]
        for fig in self.figures:
            p95 = fig.wrk["latency_us"]["p95"]
            fig.wrk["ratios"] = {"p95_vs_before": round(p95 / base, 2) if base else None}
        during = by["during"].wrk["ratios"]["p95_vs_before"]
        by["during"].check(
            "p95 while Redis is down <= 2x p95 before",
            during is not None and during <= 2.0,
            f"{during}x",
        )


def summary_line(fig: Figure) -> str:
    w = fig.wrk
    p50, p95, p99 = (w["latency_us"][p] / 1000 for p in ("p50", "p95", "p99"))
    ratio = w.get("ratios", {}).get("p95_vs_before")
    return (
        f"outage {fig.name:<7} {fig.label:<11} {w['rate']:7.1f} req/s  p50 {p50:6.1f} ms  "
        f"p95 {p95:7.1f} ms ({ratio}x before)  p99 {p99:7.1f} ms  {status_text(fig.checks)}"
    )


def main() -> int:
    parser = wrk_parser(__doc__, "phase")
    parser.add_argument("--members", type=int, default=20000, help="signed-in members seeded")
    parser.add_argument("--drain-timeout", type=int, default=240, help="max wait for the sweeps")
    parser.add_argument(
        "--no-breaker", action="store_true", help="compare: every request tries the dead Redis"
    )
    args = parse_wrk_args(parser)
    bench_run = Run("outage")
    with bench_run.workdir() as workdir:
        bench = Outage(args, bench_run.procs, workdir)
        drained = bench.run()
    bench.p95_checks()
    print()
    for fig in bench.figures:
        print(summary_line(fig))
        print_checks(fig.checks, fig.notes)
    print_checks(bench.mail, [])
    ok = all(f.ok for f in bench.figures) and all(c["ok"] for c in bench.mail)
    report = {
        **bench_run.report(),
        "host": host("django", "gunicorn", "celery", "kombu", databases=bench.context),
        "load": load_json(
            args,
            members=args.members,
            detractor_share=len(DETRACTOR_SLOTS) / 10,
            breaker=not args.no_breaker,
        ),
        "figures": [f.as_json() for f in bench.figures],
        "mail": bench.mail,
        "drain": drained,
        "ok": ok,
    }
    bench_run.save(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
