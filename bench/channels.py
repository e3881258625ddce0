"""`make bench-channels`: kiosk submissions per second, and 10,000 invitations to the inbox.

One scripted run on PostgreSQL, two figures, each beside its baselines measured in the
same run:

* kiosk  - POST /k/<device_token>/responses/ (JSON, no login, no CSRF: the device token is
           the credential) through gunicorn (-w 2 sync workers) and wrk (-t1 -c8), a unique
           idempotency key per request, 30 % detractors with a negative text; tasks run
           eagerly (no Redis), then again with Redis and a real Celery worker. Baselines:
           the bare view and the minimal submit of bench/submit.py on the same server.
           Checks: only 201s, rows == 201 answers (+ in flight), no duplicates, every
           response anonymous and tagged with the kiosk and its store, then a replay of
           already-used keys answers 200 and writes nothing.
* invite - a staff owner's signed-in session POSTs the Distribute form with 10,000
           "email, name" lines; timed from the request to the last message accepted by a
           loopback SMTP sink, with a real Celery worker (prefork, 2 processes) over Redis
           doing the work. Baseline: the same 10,000 messages sent by a plain loop over one
           SMTP connection to the same kind of sink. Checks: exactly 10,000 messages to
           10,000 distinct recipients, no duplicates, every outbox row sent, every
           invitation's sent_at set, the batch done.

One summary line per figure, its checks, and bench/results/channels-<timestamp>.json.
See bench/README.md. Like submit.py, the script imports no Django: seeding, counting and
the baseline send run as subprocesses under bench.baseline.settings.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.submit import (  # noqa: E402
    DETRACTOR_NPS,
    DETRACTOR_SLOTS,
    PROMOTER_NPS,
    REDIS_DB,
    RESULTS,
    ROOT,
    TEXT_DETRACTOR,
    TEXT_OTHER,
    VENV_BIN,
    WORKERS,
    WRK_CONNECTIONS,
    WRK_THREADS,
    Bench,
    Figure,
    Processes,
    Target,
    chorus_env,
    csrf_pair,
    free_port,
    gunicorn_cmd,
    last_json_line,
    log,
    log_wait,
    minimal_bodies,
    pg_recreate,
    pg_settings,
    ratios,
    redis_wait,
    row_checks,
    run,
    server,
)

LUA = ROOT / "bench" / "channels.lua"
SINK = ROOT / "bench" / "smtp_sink.py"
PG_DB = "chorus_bench_channels"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
# The kiosk's per-device limit (30 a minute in production) would answer 429 to a load
# generator after 30 requests: lifted for the benchmark, and said so in the README.
KIOSK_RATE = "100000000"
DETRACTOR_STARS = (1, 2, 2)
OTHER_STARS = (5, 4, 5, 5, 4, 5, 4)
WORKER_CONCURRENCY = 2

Json = dict[str, Any]


def app_env(port: int, redis_url: str = "", email_url: str = "dummymail://") -> dict[str, str]:
    """bench/submit.py's environment plus what the channels need."""
    return {
        **chorus_env(DATABASE_URL, redis_url),
        "KIOSK_RATE_PER_MINUTE": KIOSK_RATE,
        # Invitation links point at the server under test.
        "SITE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_URL": email_url,
    }


def celery_cmd(*, pool: str, concurrency: int, name: str) -> list[str]:
    return [
        str(VENV_BIN / "celery"),
        "-A",
        "config",
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        "-Q",
        "chorus",  # config.settings: CELERY_TASK_DEFAULT_QUEUE (env CELERY_QUEUE), no routes
        "-n",
        f"{name}@%h",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]


# --- kiosk load ----------------------------------------------------------------------------


def kiosk_bodies(kiosk: Json) -> list[str]:
    """Ten JSON bodies, three of them detractors (low NPS and stars, a negative text)."""
    nps, star = kiosk["nps"]["field"], kiosk["star"]["field"]
    single, text = kiosk["single_choice"], kiosk["text"]["field"]
    promoters, detractors = iter(PROMOTER_NPS), iter(DETRACTOR_NPS)
    low_stars, high_stars = iter(DETRACTOR_STARS), iter(OTHER_STARS)
    bodies = []
    for i in range(10):
        detractor = i in DETRACTOR_SLOTS
        answers = {
            nps: next(detractors) if detractor else next(promoters),
            star: next(low_stars) if detractor else next(high_stars),
            single["field"]: single["choices"][i % 3],
            text: TEXT_DETRACTOR if detractor else TEXT_OTHER,
        }
        bodies.append(
            json.dumps({"idempotency_key": "__KEY__", "language": "en", "answers": answers})
        )
    return bodies


def wrk_kiosk(port: int, kiosk: Json, *, seconds: int, run_id: str, workdir: Path) -> Json:
    """POST kiosk bodies for `seconds` with wrk -t1 -c8; returns channels.lua's counts."""
    path = f"/k/{kiosk['device_token']}/responses/"
    bodies = workdir / f"{run_id}-bodies.jsonl"
    bodies.write_text("\n".join(kiosk_bodies(kiosk)) + "\n")
    cmd = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{path}",
        "--",
        path,
        str(bodies),
        run_id,
        str(WRK_THREADS),
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 60, check=False, cwd=workdir
    )
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            result = json.loads(line[len("WRKJSON ") :])
            break
    else:
        raise RuntimeError(f"wrk printed no result ({done.returncode}):\n{done.stderr[-2000:]}")
    # The shape bench/submit.py's Figure and ratios() read.
    result["accepted"] = result["s201"]
    result["in_flight"] = result["sent"] - result["received"]
    result["rate"] = result["accepted"] / (result["duration_us"] / 1e6)
    result["not_created"] = (
        result["s200"]
        + result["s2xx_other"]
        + result["s3xx"]
        + result["s4xx_other"]
        + result["s429"]
        + result["s5xx"]
        + result["other"]
    )
    return result


def wrk_summary(w: Json) -> str:
    return (
        f"201={w['s201']} 200={w['s200']} 429={w['s429']} other 4xx={w['s4xx_other']} "
        f"5xx={w['s5xx']} other={w['s2xx_other'] + w['s3xx'] + w['other']} errors={w['errors']}"
    )


def replay(port: int, kiosk: Json, sample: list[list[Any]]) -> Json:
    """Resend already-used keys as a kiosk flushing its offline queue would: expect 200s."""
    path = f"/k/{kiosk['device_token']}/responses/"
    # A detractor's answers: a replay that were stored again would also open a case.
    answers = json.loads(kiosk_bodies(kiosk)[DETRACTOR_SLOTS[0]])["answers"]
    statuses: Counter[int] = Counter()
    same_response = 0
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for key, response_id in sample:
            body = json.dumps({"idempotency_key": key, "language": "en", "answers": answers})
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            statuses[resp.status] += 1
            if resp.status == 200:
                with contextlib.suppress(ValueError):
                    if json.loads(data) == {"id": response_id, "created": False}:
                        same_response += 1
    finally:
        conn.close()
    return {
        "replays": len(sample),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "same_response": same_response,
        "seconds": round(time.monotonic() - started, 3),
    }


def kiosk_checks(fig: Figure, counts: Json, after: Json, replays: Json) -> None:
    w = fig.wrk
    errors = sum(w["errors"].values())
    fig.check(
        "every answer 201: 0 non-2xx, 0 replays (200), 0 rate-limited (429), 0 socket errors",
        w["not_created"] == 0 and errors == 0 and w["s201"] > 0,
        wrk_summary(w),
    )
    n = counts["responses"]
    fig.counts = counts
    fig.check(
        "rows written == 201 answers (+ in flight at wrk's stop)",
        w["accepted"] <= n <= w["accepted"] + w["in_flight"],
        f"rows={n} 201s={w['accepted']} in flight at wrk's stop={w['in_flight']}",
    )
    fig.check(
        "no duplicate responses",
        counts["distinct_keys"] == n and counts["duplicate_keys"] == 0,
        f"distinct keys={counts['distinct_keys']} duplicated keys={counts['duplicate_keys']}",
    )
    identity = (
        counts["with_member"]
        + counts["with_invitation"]
        + counts["not_anonymous"]
        + counts["with_consent"]
    )
    fig.check(
        "every response anonymous (no member, no invitation, no consent)",
        identity == 0,
        f"member={counts['with_member']} invitation={counts['with_invitation']} "
        f"not anonymous={counts['not_anonymous']} consent={counts['with_consent']}",
    )
    fig.check(
        "every response tagged: this kiosk's channel, its store, its survey, language en",
        counts["wrong_location"] == 0
        and counts["wrong_survey"] == 0
        and counts["languages"] == {"en": n},
        f"channel={n}/{n} wrong store={counts['wrong_location']} "
        f"wrong survey={counts['wrong_survey']} languages={counts['languages']}",
    )
    fig.check(
        "4 answers and 1 choice row per response",
        counts["answers"] == 4 * n and counts["answer_choices"] == n,
        f"answers={counts['answers']} choice rows={counts['answer_choices']}",
    )
    share = counts["detractors"] / n if n else 0.0
    fig.check(
        "30 % detractors, a case each, no follow-up email (nobody to write to)",
        abs(share - 0.30) <= 0.02
        and counts["cases"] == counts["detractors"]
        and counts["followup_emails"] == 0,
        f"detractors={counts['detractors']} ({share:.1%}) cases={counts['cases']} "
        f"follow-up emails={counts['followup_emails']}",
    )
    fig.check(
        "every response analysed (text scored; negative exactly for the detractors)",
        counts["analysed"] == n
        and counts["text_scored"] == counts["text_answers"] == n
        and counts["negative_texts"] == counts["detractors"],
        f"analysed={counts['analysed']} texts scored={counts['text_scored']}/"
        f"{counts['text_answers']} negative={counts['negative_texts']}",
    )
    unchanged = {k: v for k, v in counts.items() if k != "sample"} == after
    fig.check(
        f"replay: {replays['replays']} used keys resent answer 200 with the stored response "
        f"and write nothing",
        replays["statuses"] == {"200": replays["replays"]}
        and replays["same_response"] == replays["replays"]
        and unchanged
        and replays["replays"] > 0,
        f"statuses={replays['statuses']} same response={replays['same_response']} "
        f"rows before={n} after={after['responses']} cases after={after['cases']}"
        + ("" if unchanged else " COUNTS CHANGED"),
    )


# --- SMTP sink -----------------------------------------------------------------------------


class Sink:
    """bench/smtp_sink.py in its own process; reads what it accepted from its file."""

    def __init__(self, procs: Processes, name: str) -> None:
        self.port = free_port()
        self.out = procs.log_dir / f"{name}.tsv"
        self.proc = procs.start(
            name,
            [str(VENV_BIN / "python"), str(SINK), "--port", str(self.port), "--out", str(self.out)],
            env={**chorus_env(DATABASE_URL), "PYTHONUNBUFFERED": "1"},
        )
        log_wait(procs.log_dir / f"{name}.log", "ready", self.proc, timeout=30)

    @property
    def url(self) -> str:
        # django-environ: smtp:// is plain SMTP (smtp+tls:// would STARTTLS); no auth.
        return f"smtp://127.0.0.1:{self.port}"

    def count(self) -> int:
        if not self.out.exists():
            return 0
        return self.out.read_bytes().count(b"\n")

    def messages(self) -> list[tuple[float, str, str, int]]:
        rows = []
        for line in self.out.read_text(encoding="utf-8").splitlines():
            stamp, rcpts, message_id, size = line.split("\t")
            rows.append((float(stamp), rcpts, message_id, int(size)))
        return rows

    def wait_for(self, n: int, timeout: float, alive: list[subprocess.Popen]) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= n:
                return True
            if self.proc.poll() is not None or any(p.poll() is not None for p in alive):
                return False
            time.sleep(0.2)
        return self.count() >= n


def stamp_of(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


def sink_checks(checks: list[Json], rows: list[tuple[float, str, str, int]], expected: set[str]):
    def check(name: str, ok: bool, detail: str) -> None:
        checks.append({"check": name, "ok": bool(ok), "detail": detail})

    n = len(expected)
    rcpts = Counter(r[1] for r in rows)
    ids = Counter(r[2] for r in rows)
    check(
        f"exactly {n:,} messages accepted by the sink",
        len(rows) == n,
        f"accepted={len(rows):,}",
    )
    check(
        f"{n:,} distinct recipients, each the one posted",
        len(rcpts) == n and set(rcpts) == expected,
        f"distinct={len(rcpts):,} not posted={len(set(rcpts) - expected)} "
        f"posted but missing={len(expected - set(rcpts))}",
    )
    dupes = sum(c - 1 for c in rcpts.values()) + sum(c - 1 for c in ids.values())
    check(
        "no duplicates (recipient or Message-ID twice)",
        dupes == 0 and "" not in ids,
        f"repeated recipients={sum(c - 1 for c in rcpts.values())} "
        f"repeated Message-IDs={sum(c - 1 for c in ids.values())}",
    )


# --- the run -------------------------------------------------------------------------------


class Channels(Bench):
    """bench/submit.py's Bench (measure(), figures) plus the kiosk and invitation figures."""

    def __init__(self, args: argparse.Namespace, procs: Processes, workdir: Path) -> None:
        super().__init__(args, procs, workdir)
        self.python = str(VENV_BIN / "python")
        self.invite: Json = {}
        self.seed: Json = {}

    def manage(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 300) -> Json:
        out = run([self.python, "manage.py", *argv], env=env or app_env(0), timeout=timeout)
        return last_json_line(out)

    def setup(self) -> None:
        pg_recreate(PG_DB)
        self.context["postgresql"] = pg_settings(PG_DB)
        env = app_env(0)
        log("migrating and seeding")
        run([self.python, "manage.py", "migrate", "--noinput", "-v", "0"], env=env)
        labels = ["warm", "eager"] + ([] if self.args.no_redis else ["warm-redis", "redis"])
        self.seed = self.manage("bench_channels_seed", "--kiosks", ",".join(labels))

    # -- kiosk ------------------------------------------------------------------------------

    def kiosk_counts(self, kiosk: Json, sample: int = 0) -> Json:
        return self.manage(
            "bench_channels_check", "--kiosk", str(kiosk["channel_id"]), "--sample", str(sample)
        )

    def measure_kiosk(self, port: int, label: str, warm: str, name: str, title: str) -> Figure:
        kiosks = self.seed["kiosks"]
        warm_result = None
        if self.args.warmup:
            warm_result = wrk_kiosk(
                port,
                kiosks[warm],
                seconds=self.args.warmup,
                run_id=f"warm-{name}",
                workdir=self.workdir,
            )
            time.sleep(1.0)
        log(f"measuring {title} for {self.args.duration}s")
        result = wrk_kiosk(
            port, kiosks[label], seconds=self.args.duration, run_id=name, workdir=self.workdir
        )
        fig = Figure(name=name, db="postgresql", label=title, wrk=result)
        if warm_result is not None:
            fig.check(
                "warm-up answered 201 only",
                warm_result["not_created"] == 0 and not sum(warm_result["errors"].values()),
                wrk_summary(warm_result),
            )
        self.figures.append(fig)
        time.sleep(1.0)  # in-flight requests at wrk's stop still commit
        return fig

    def kiosk_eager(self) -> None:
        port = free_port()
        env = app_env(port)
        cmd = gunicorn_cmd(VENV_BIN / "gunicorn", "config.wsgi:application", port, ROOT)
        kiosk = self.seed["kiosks"]["eager"]
        with server(self.procs, "gunicorn-eager", cmd, env, port, "/bench/bare/"):
            self.measure(port, Target("GET", "/bench/bare/"), "bare", "postgresql", "bare view")

            cookie, token = csrf_pair(port, "/bench/minimal/")
            minimal = Target(
                "POST", "/bench/minimal/", minimal_bodies(token), cookie=cookie, location="/bench/"
            )
            fig = self.measure(port, minimal, "minimal", "postgresql", "minimal submit")
            row_checks(fig, self.manage("bench_check", "--key-prefix", "postgresql-minimal-"))

            fig = self.measure_kiosk(
                port, "eager", "warm", "kiosk", "kiosk submit (no Redis: eager tasks)"
            )
            counts = self.kiosk_counts(kiosk, self.args.replays)
            replays = replay(port, kiosk, counts["sample"])
            after = self.kiosk_counts(kiosk)
        kiosk_checks(fig, counts, after, replays)
        fig.counts["replay"] = replays
        fig.notes.append(
            "REDIS_URL unset: the sentiment task (every submission has text) runs in the web "
            "request after commit; the rate counter is each gunicorn worker's local memory"
        )

    def kiosk_redis(self, redis_url: str) -> None:
        kiosk = self.seed["kiosks"]["redis"]
        port = free_port()
        env = app_env(port, redis_url)
        worker = self.procs.start(
            "celery-kiosk",
            celery_cmd(pool="solo", concurrency=1, name="bench-kiosk"),
            env=env,
        )
        try:
            log_wait(self.procs.log_dir / "celery-kiosk.log", "ready.", worker)
            cmd = gunicorn_cmd(VENV_BIN / "gunicorn", "config.wsgi:application", port, ROOT)
            with server(self.procs, "gunicorn-kiosk-redis", cmd, env, port, "/bench/bare/"):
                fig = self.measure_kiosk(
                    port, "redis", "warm-redis", "kiosk-redis", "kiosk submit (Redis + worker)"
                )
                started = time.monotonic()
                deadline = started + self.args.drain_timeout
                counts = self.kiosk_counts(kiosk)
                while time.monotonic() < deadline and counts["analysed"] < counts["responses"]:
                    if worker.poll() is not None:
                        break
                    time.sleep(2)
                    counts = self.kiosk_counts(kiosk)
                drained = time.monotonic() - started
                counts = self.kiosk_counts(kiosk, self.args.replays)
                replays = replay(port, kiosk, counts["sample"])
                after = self.kiosk_counts(kiosk)
        finally:
            self.procs.stop(worker)
        kiosk_checks(fig, counts, after, replays)
        fig.counts["replay"] = replays
        fig.notes.append(
            f"sentiment tasks published to Redis and run by a Celery worker (--pool=solo) "
            f"sharing the 2 cores; drained {drained:.0f}s after wrk stopped; the rate counter "
            f"lives in Redis (cache.add + cache.incr per request)"
        )

    # -- invitations ------------------------------------------------------------------------

    def invitations(self, redis_url: str) -> None:
        n = self.args.invitations
        invite = self.seed["invite"]
        recipients = [(f"guest-{i:05d}@example.com", f"Guest {i:05d}") for i in range(n)]
        expected = {email for email, _name in recipients}
        result: Json = {"invitations": n, "checks": [], "notes": []}
        self.invite = result

        def check(name: str, ok: bool, detail: str) -> None:
            result["checks"].append({"check": name, "ok": bool(ok), "detail": detail})

        sink = Sink(self.procs, "smtp-sink-invite")
        port = free_port()
        env = app_env(port, redis_url, sink.url)
        worker = self.procs.start(
            "celery-invite",
            celery_cmd(pool="prefork", concurrency=WORKER_CONCURRENCY, name="bench-invite"),
            env=env,
        )
        try:
            log_wait(self.procs.log_dir / "celery-invite.log", "ready.", worker)
            cmd = gunicorn_cmd(VENV_BIN / "gunicorn", "config.wsgi:application", port, ROOT)
            with server(self.procs, "gunicorn-invite", cmd, env, port, "/bench/bare/") as web:
                path = f"/staff/{invite['org_slug']}/surveys/{invite['survey_pk']}/distribute/"
                session = invite["session_cookie"]
                # The staff page as a browser gets it: the CSRF cookie and the form's token.
                csrf_cookie, token = csrf_pair(port, path, session)
                body = urllib.parse.urlencode(
                    [
                        ("csrfmiddlewaretoken", token),
                        ("community", ""),
                        ("recipients", "\n".join(f"{e}, {nm}" for e, nm in recipients)),
                    ]
                )
                result["request_body_bytes"] = len(body)
                log(f"POST {path} with {n:,} recipients ({len(body) / 1024:.0f} KiB)")
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                try:
                    t0 = time.time()
                    m0 = time.monotonic()
                    conn.request(
                        "POST",
                        path,
                        body,
                        {
                            "Content-Type": "application/x-www-form-urlencoded",
                            "Cookie": f"{session}; {csrf_cookie}",
                        },
                    )
                    resp = conn.getresponse()
                    resp.read()
                    request_s = time.monotonic() - m0
                    status, location = resp.status, resp.getheader("Location") or ""
                finally:
                    conn.close()
                result["request"] = {"status": status, "location": location}
                result["request_s"] = round(request_s, 3)
                match = re.fullmatch(rf"/staff/{invite['org_slug']}/batches/(\d+)/", location)
                check(
                    "the POST answers 302 to its batch's page",
                    status == 302 and match is not None,
                    f"{status} -> {location or '(no Location)'} in {request_s:.3f}s",
                )
                if match is None:
                    return
                batch_id = int(match.group(1))
                log(f"batch {batch_id} queued in {request_s:.2f}s; waiting for the sink")
                reached = sink.wait_for(n, self.args.invite_timeout, [worker, web])
                waited = time.time() - t0
            if not reached:
                check(
                    f"all {n:,} accepted within {self.args.invite_timeout}s",
                    False,
                    f"{sink.count():,} accepted after {waited:.0f}s",
                )
            # Let late duplicates arrive, and the worker mark its last rows sent.
            time.sleep(self.args.settle)
            counts = self.manage("bench_channels_check", "--batch", str(batch_id), env=env)
            deadline = time.monotonic() + 30
            while (
                counts["outbox_sent"] < counts["outbox"] or counts["batch_status"] != "done"
            ) and time.monotonic() < deadline:
                time.sleep(1)
                counts = self.manage("bench_channels_check", "--batch", str(batch_id), env=env)
        finally:
            self.procs.stop(worker)
        rows = sink.messages()
        self.procs.stop(sink.proc)
        result["counts"] = counts
        stamps = [r[0] for r in rows]
        done_at = stamp_of(counts["batch_finished_at"])
        result["timings_s"] = {
            "request": result["request_s"],
            "batch_row_committed": round(stamp_of(counts["batch_created_at"]) - t0, 3),
            "batch_done": round(done_at - t0, 3) if done_at else None,
            "first_accepted": round(min(stamps) - t0, 3) if stamps else None,
            "all_accepted": round(max(stamps) - t0, 3) if len(rows) >= n else None,
        }
        result["bytes_per_message"] = round(sum(r[3] for r in rows) / len(rows)) if rows else 0

        sink_checks(result["checks"], rows, expected)
        check(
            f"{n:,} outbox rows, every one sent, nothing else in the organisation's outbox",
            counts["outbox"] == n
            and counts["outbox_sent"] == n
            and counts["outbox_distinct_to"] == n
            and counts["outbox_to_not_invited"] == 0
            and counts["org_emails"] == n
            and counts["org_emails_not_sent"] == 0,
            f"rows={counts['outbox']:,} by status={counts['outbox_by_status']} "
            f"distinct to={counts['outbox_distinct_to']:,} retried={counts['outbox_retried']} "
            f"organisation's emails={counts['org_emails']:,}",
        )
        check(
            f"{n:,} invitations, every sent_at set; the batch done with total {n:,}",
            counts["invitations"] == n
            and counts["invitation_emails_distinct"] == n
            and counts["invitations_unsent"] == 0
            and counts["batch_status"] == "done"
            and counts["batch_total"] == n
            and counts["batch_recipients"] == n,
            f"invitations={counts['invitations']:,} "
            f"distinct={counts['invitation_emails_distinct']:,} "
            f"unsent={counts['invitations_unsent']} status={counts['batch_status']} "
            f"total={counts['batch_total']:,} skipped={counts['batch_skipped']}",
        )
        # The request only queues: it must not do the work itself.
        first = result["timings_s"]["first_accepted"]
        check(
            "the request only queues the work (it returned before the first email went out)",
            first is not None and result["request_s"] < first,
            f"request {result['request_s']:.3f}s, first email accepted at {first}s",
        )
        self.invite_baseline(batch_id, result)

    def invite_baseline(self, batch_id: int, result: Json) -> None:
        """The same messages, a plain loop over one SMTP connection, to a fresh sink."""
        n = result["invitations"]
        sink = Sink(self.procs, "smtp-sink-baseline")
        log(f"baseline: the same {n:,} messages over one SMTP connection")
        try:
            env = app_env(0, "", sink.url)
            sent = self.manage("bench_mail_baseline", "--batch", str(batch_id), env=env)
            sink.wait_for(n, 30, [])
            time.sleep(min(self.args.settle, 1.0))
            rows = sink.messages()
        finally:
            self.procs.stop(sink.proc)
        stamps = [r[0] for r in rows]
        total = (max(stamps) - sent["start"]) if stamps else None
        base: Json = {
            "messages": sent["messages"],
            "backend_reported_sent": sent["sent"],
            "accepted": len(rows),
            "seconds": round(total, 3) if total else None,
            "send_call_s": round(sent["end"] - sent["start"], 3),
            "checks": [],
        }
        expected = {r[1] for r in rows} if len(rows) == n else set()
        base["checks"].append(
            {
                "check": f"{n:,} messages handed over, sent and accepted, distinct recipients",
                "ok": sent["messages"] == sent["sent"] == len(rows) == n and len(expected) == n,
                "detail": f"handed over={sent['messages']:,} sent={sent['sent']:,} "
                f"accepted={len(rows):,} distinct recipients={len({r[1] for r in rows}):,}",
            }
        )
        result["baseline"] = base
        chorus = result["timings_s"]["all_accepted"]
        if chorus and total:
            result["ratios"] = {
                "time_vs_plain_loop": round(chorus / total, 2),
                "rate_vs_plain_loop": round(total / chorus, 3),
            }


# --- report --------------------------------------------------------------------------------


def kiosk_line(fig: Figure) -> str:
    r = fig.wrk.get("ratios", {})
    parts = [f"{r[b]:.2f}x {b}" for b in ("bare", "minimal") if b in r]
    failed = [c["check"] for c in fig.checks if not c["ok"]]
    status = "checks ok" if not failed else "CHECKS FAILED: " + "; ".join(failed)
    p50, p99 = (fig.wrk["latency_us"][p] / 1000 for p in ("p50", "p99"))
    return (
        f"kiosk  postgresql {fig.label:<38} {fig.rate:8.1f} req/s  "
        f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  {'  '.join(parts):<26} {status}"
    )


def invite_lines(inv: Json) -> list[str]:
    n = inv["invitations"]
    t = inv.get("timings_s", {})
    failed = [c["check"] for c in inv["checks"] if not c["ok"]]
    status = "checks ok" if not failed else "CHECKS FAILED: " + "; ".join(failed)
    total = t.get("all_accepted")
    rate = f"{n / total:7.1f} msg/s" if total else "      - msg/s"
    ratio = inv.get("ratios", {})
    lines = [
        f"invite postgresql {n:,} invitations, request -> all accepted by the SMTP sink "
        f"{total if total is not None else '-':>8}s  {rate}  "
        f"request {t.get('request', '-')}s, batch done {t.get('batch_done', '-')}s, "
        f"first email {t.get('first_accepted', '-')}s  "
        + (
            f"{ratio['rate_vs_plain_loop']:.2f}x plain loop's rate "
            f"({ratio['time_vs_plain_loop']:.1f}x its time)  "
            if ratio
            else ""
        )
        + status
    ]
    base = inv.get("baseline")
    if base:
        b_failed = [c["check"] for c in base["checks"] if not c["ok"]]
        b_status = "checks ok" if not b_failed else "CHECKS FAILED: " + "; ".join(b_failed)
        secs = base["seconds"]
        b_rate = f"{n / secs:7.1f} msg/s" if secs else "      - msg/s"
        lines.append(
            f"invite postgresql plain loop, the same {n:,} messages over one SMTP connection "
            f"{secs if secs is not None else '-':>8}s  {b_rate}  {b_status}"
        )
    return lines


def print_checks(checks: list[Json], notes: list[str] = ()) -> None:
    for check in checks:
        mark = "ok  " if check["ok"] else "FAIL"
        print(f"    {mark} {check['check']}: {check['detail']}")
    for note in notes:
        print(f"    note: {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk figure (>= 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per figure")
    parser.add_argument("--replays", type=int, default=200, help="used keys resent per kiosk")
    parser.add_argument("--invitations", type=int, default=10000, help="recipients posted")
    parser.add_argument("--invite-timeout", type=int, default=240, help="max wait for the sink")
    parser.add_argument("--drain-timeout", type=int, default=120, help="max wait for the worker")
    parser.add_argument("--settle", type=float, default=2.0, help="wait for late duplicates")
    parser.add_argument("--no-redis", action="store_true", help="skip the kiosk Redis figure")
    parser.add_argument("--no-kiosk", action="store_true", help="skip the kiosk figures")
    parser.add_argument("--no-invite", action="store_true", help="skip the invitation figure")
    args = parser.parse_args()
    if args.duration < 10:
        log("note: under 10 s per endpoint is a smoke test, not a figure (BENCH.md)")
    if shutil.which("wrk") is None and not args.no_kiosk:
        raise SystemExit("wrk not found: apt-get install wrk")
    if shutil.which("redis-server") is None:
        if not args.no_invite:
            raise SystemExit("redis-server not found (the invitation figure needs it)")
        args.no_redis = True

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / f"channels-{stamp}-logs"
    log_dir.mkdir()
    procs = Processes(log_dir)
    started = time.monotonic()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-channels-") as tmp:
        bench = Channels(args, procs, Path(tmp))
        try:
            bench.setup()
            if not args.no_kiosk:
                bench.kiosk_eager()
            if not (args.no_redis or args.no_kiosk) or not args.no_invite:
                redis_port = free_port()
                redis = procs.start(
                    "redis",
                    [
                        "redis-server",
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        str(redis_port),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ],
                    env=chorus_env(DATABASE_URL),
                )
                redis_wait(redis_port, redis)
                redis_url = f"redis://127.0.0.1:{redis_port}/{REDIS_DB}"
                if not (args.no_redis or args.no_kiosk):
                    bench.kiosk_redis(redis_url)
                if not args.no_invite:
                    bench.invitations(redis_url)
        finally:
            procs.stop_all()
    figures = bench.figures
    ratios(figures)
    print()
    for fig in figures:
        print(kiosk_line(fig))
        print_checks(fig.checks, fig.notes)
    inv = bench.invite
    if inv:
        lines = invite_lines(inv)
        print(lines[0])
        print_checks(inv["checks"], inv["notes"])
        for line in lines[1:]:
            print(line)
            print_checks(inv["baseline"]["checks"])
    ok = all(f.ok for f in figures) and (
        not inv
        or (
            all(c["ok"] for c in inv["checks"])
            and "baseline" in inv
            and all(c["ok"] for c in inv["baseline"]["checks"])
        )
    )
    if not args.no_invite and not inv:
        ok = False
    report = {
        "benchmark": "channels",
        "timestamp": stamp,
        "command": "make bench-channels  # " + " ".join(sys.argv[1:]),
        "elapsed_s": round(time.monotonic() - started, 1),
        "host": {
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "django": importlib.metadata.version("django"),
            "gunicorn": importlib.metadata.version("gunicorn"),
            "celery": importlib.metadata.version("celery"),
            "aiosmtpd": importlib.metadata.version("aiosmtpd"),
            "databases": bench.context,
        },
        "load": {
            "tool": "wrk",
            "threads": WRK_THREADS,
            "connections": WRK_CONNECTIONS,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "gunicorn_workers": WORKERS,
            "detractor_share": len(DETRACTOR_SLOTS) / 10,
            "kiosk_rate_per_minute": int(KIOSK_RATE),
            "invite_worker": f"celery prefork --concurrency={WORKER_CONCURRENCY}",
        },
        "figures": [
            {
                "name": f.name,
                "db": f.db,
                "label": f.label,
                "req_per_s": round(f.rate, 1),
                "ratios": f.wrk.get("ratios", {}),
                "wrk": f.wrk,
                "counts": {k: v for k, v in f.counts.items() if k != "sample"},
                "checks": f.checks,
                "notes": f.notes,
            }
            for f in figures
        ],
        "invite": inv,
        "ok": ok,
    }
    out = RESULTS / f"channels-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)} ({report['elapsed_s']} s); logs in {log_dir.name}/")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
