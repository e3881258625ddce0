"""`make bench-channels`: kiosk submissions per second, and 10,000 invitations to the inbox.

One scripted run on PostgreSQL, two figures, each beside its baselines measured in the
same run:

* kiosk  - POST /k/<device_token>/responses/ (JSON, no login, no CSRF: the device token is
           the credential) through gunicorn (-w 2 sync workers) and wrk (-t1 -c8), a unique
           idempotency key per request, 30 % detractors with a negative text; tasks run
           eagerly (no Redis), then again with Redis and a real Celery worker. Baselines:
           the bare view and the minimal submit of make bench-submit on the same server.
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
See bench/README.md. Like the other benches, the script imports no Django: seeding, counting
and the baseline send run as subprocesses under bench.baseline.settings.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import sys
import time
import urllib.parse
from collections import Counter
from datetime import datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    Json,
    Processes,
    Run,
    Sink,
    add_check,
    celery_worker,
    chorus_env,
    csrf_pair,
    free_port,
    host,
    log,
    manage,
    migrate,
    pg_recreate,
    pg_settings,
    pg_url,
    print_checks,
    redis_server,
    server,
    status_text,
)
from bench.kiosk import KIOSK_RATE, kiosk_checks, replay, wrk_kiosk, wrk_summary  # noqa: E402
from bench.load import (  # noqa: E402
    BARE,
    DETRACTOR_SLOTS,
    Bench,
    Figure,
    drain,
    load_json,
    parse_wrk_args,
    rate_line,
    ratio_text,
    ratios,
    warm_then_measure,
    wrk_parser,
)

PG_DB = "chorus_bench_channels"
DATABASE_URL = pg_url(PG_DB)
WORKER_CONCURRENCY = 2


def app_env(port: int, redis_url: str = "", email_url: str = "dummymail://") -> dict[str, str]:
    """Chorus's bench environment (bench/harness.py) plus what the channels need."""
    return {
        **chorus_env(DATABASE_URL, redis_url),
        "KIOSK_RATE_PER_MINUTE": KIOSK_RATE,
        # Invitation links point at the server under test.
        "SITE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_URL": email_url,
    }


# --- SMTP sink checks ----------------------------------------------------------------------


def stamp_of(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


def sink_checks(
    checks: list[Json], rows: list[tuple[float, str, str, int]], expected: set[str]
) -> None:
    check = partial(add_check, checks)
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
    """Bench (measure(), baselines(), figures) plus the kiosk and invitation figures."""

    def __init__(self, args: argparse.Namespace, procs: Processes, workdir: Path) -> None:
        super().__init__(args, procs, workdir)
        self.invite: Json = {}
        self.seed: Json = {}

    def setup(self) -> None:
        pg_recreate(PG_DB)
        self.context["postgresql"] = pg_settings(PG_DB)
        env = app_env(0)
        log("migrating and seeding")
        migrate(env)
        labels = ["warm", "eager"] + ([] if self.args.no_redis else ["warm-redis", "redis"])
        self.seed = manage("bench_channels_seed", "--kiosks", ",".join(labels), env=env)

    # -- kiosk ------------------------------------------------------------------------------

    def kiosk_counts(self, kiosk: Json, sample: int = 0) -> Json:
        return manage(
            "bench_channels_check",
            "--kiosk",
            str(kiosk["channel_id"]),
            "--sample",
            str(sample),
            env=app_env(0),
        )

    def replay_and_check(self, port: int, kiosk: Json, fig: Figure) -> None:
        """Count, resend used keys (the replay), count again; then the figure's checks."""
        counts = self.kiosk_counts(kiosk, self.args.replays)
        replays = replay(port, kiosk, counts["sample"])
        after = self.kiosk_counts(kiosk)
        kiosk_checks(fig, counts, after, replays)
        fig.counts["replay"] = replays

    def measure_kiosk(self, port: int, label: str, warm: str, name: str, title: str) -> Figure:
        kiosks = self.seed["kiosks"]
        shoot = partial(wrk_kiosk, port, workdir=self.workdir)
        warm_result, result = warm_then_measure(
            self.args, shoot, kiosks[label], kiosks[warm], name, title
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
        kiosk = self.seed["kiosks"]["eager"]
        with server(self.procs, "gunicorn-eager", env, port, BARE):
            self.baselines(port, "postgresql", env)
            fig = self.measure_kiosk(
                port, "eager", "warm", "kiosk", "kiosk submit (no Redis: eager tasks)"
            )
            self.replay_and_check(port, kiosk, fig)
        fig.notes.append(
            "REDIS_URL unset: the sentiment task (every submission has text) runs in the web "
            "request after commit; the rate counter is each gunicorn worker's local memory"
        )

    def kiosk_redis(self, redis_url: str) -> None:
        kiosk = self.seed["kiosks"]["redis"]
        port = free_port()
        env = app_env(port, redis_url)
        with (
            celery_worker(
                self.procs, "celery-kiosk", env, concurrency=1, node="bench-kiosk"
            ) as worker,
            server(self.procs, "gunicorn-kiosk-redis", env, port, BARE),
        ):
            fig = self.measure_kiosk(
                port, "redis", "warm-redis", "kiosk-redis", "kiosk submit (Redis + worker)"
            )
            _counts, drained = drain(
                lambda: self.kiosk_counts(kiosk),
                lambda c: c["analysed"] >= c["responses"],
                worker,
                self.args.drain_timeout,
            )
            self.replay_and_check(port, kiosk, fig)
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

        check = partial(add_check, result["checks"])

        sink = Sink(self.procs, "smtp-sink-invite")
        port = free_port()
        env = app_env(port, redis_url, sink.url)
        with celery_worker(
            self.procs,
            "celery-invite",
            env,
            pool="prefork",
            concurrency=WORKER_CONCURRENCY,
            node="bench-invite",
        ) as worker:
            with server(self.procs, "gunicorn-invite", env, port, BARE) as web:
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
            counts = manage("bench_channels_check", "--batch", str(batch_id), env=env)
            deadline = time.monotonic() + 30
            while (
                counts["outbox_sent"] < counts["outbox"] or counts["batch_status"] != "done"
            ) and time.monotonic() < deadline:
                time.sleep(1)
                counts = manage("bench_channels_check", "--batch", str(batch_id), env=env)
        rows = sink.messages()
        sink.stop()
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
            sent = manage("bench_mail_baseline", "--batch", str(batch_id), env=env)
            sink.wait_for(n, 30, [])
            time.sleep(min(self.args.settle, 1.0))
            rows = sink.messages()
        finally:
            sink.stop()
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
    head = f"kiosk  postgresql {fig.label:<38}"
    return rate_line(head, fig.wrk, ratio_text(fig, ("bare", "minimal")), 26, fig.checks)


def invite_lines(inv: Json) -> list[str]:
    n = inv["invitations"]
    t = inv.get("timings_s", {})
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
        + status_text(inv["checks"])
    ]
    base = inv.get("baseline")
    if base:
        secs = base["seconds"]
        b_rate = f"{n / secs:7.1f} msg/s" if secs else "      - msg/s"
        lines.append(
            f"invite postgresql plain loop, the same {n:,} messages over one SMTP connection "
            f"{secs if secs is not None else '-':>8}s  {b_rate}  {status_text(base['checks'])}"
        )
    return lines


def main() -> int:
    parser = wrk_parser(__doc__, "figure")
    parser.add_argument("--replays", type=int, default=200, help="used keys resent per kiosk")
    parser.add_argument("--invitations", type=int, default=10000, help="recipients posted")
    parser.add_argument("--invite-timeout", type=int, default=240, help="max wait for the sink")
    parser.add_argument("--drain-timeout", type=int, default=120, help="max wait for the worker")
    parser.add_argument("--settle", type=float, default=2.0, help="wait for late duplicates")
    parser.add_argument("--no-redis", action="store_true", help="skip the kiosk Redis figure")
    parser.add_argument("--no-kiosk", action="store_true", help="skip the kiosk figures")
    parser.add_argument("--no-invite", action="store_true", help="skip the invitation figure")
    args = parse_wrk_args(parser, wrk_needed=lambda a: not a.no_kiosk)
    if shutil.which("redis-server") is None:
        if not args.no_invite:
            raise SystemExit("redis-server not found (the invitation figure needs it)")
        args.no_redis = True

    bench_run = Run("channels")
    load_before = os.getloadavg()
    with bench_run.workdir() as workdir:
        bench = Channels(args, bench_run.procs, workdir)
        bench.setup()
        if not args.no_kiosk:
            bench.kiosk_eager()
        if not (args.no_redis or args.no_kiosk) or not args.no_invite:
            with redis_server(bench_run.procs) as redis_url:
                if not (args.no_redis or args.no_kiosk):
                    bench.kiosk_redis(redis_url)
                if not args.no_invite:
                    bench.invitations(redis_url)
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
        **bench_run.report(),
        "host": host(
            "django",
            "gunicorn",
            "celery",
            "aiosmtpd",
            loadavg_before=[round(x, 2) for x in load_before],
            loadavg_after=[round(x, 2) for x in os.getloadavg()],
            databases=bench.context,
        ),
        "load": load_json(
            args,
            detractor_share=len(DETRACTOR_SLOTS) / 10,
            kiosk_rate_per_minute=int(KIOSK_RATE),
            invite_worker=f"celery prefork --concurrency={WORKER_CONCURRENCY}",
        ),
        "figures": [f.as_json() for f in figures],
        "invite": inv,
        "ok": ok,
    }
    bench_run.save(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
