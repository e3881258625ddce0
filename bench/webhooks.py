"""`make bench-webhooks`: webhook deliveries through a real Celery worker, beside a plain
httpx loop to the same receiver, and the delay from cause to receipt at a steady rate.

On PostgreSQL (database chorus_bench_webhooks) and on SQLite, one scripted run:

* deliveries - N events (default 2,000; response.created, ~0.5 KB each) emitted with
               `webhook_emit` for one endpoint while no worker runs, so N deliveries and N
               tasks wait in Redis; then one `celery worker --pool=solo` (as the Procfile
               runs it) claims, signs, POSTs and records each. Deliveries per second =
               receipts at the receiver, first to last. Beside it, in the same run: one
               `httpx.Client` in this process POSTs the same N bodies with the same headers
               (signature computed per request) to the same receiver, one after another.
* latency    - with that worker running, a Django process emits one event at a time, each
               in its own transaction, paced at --rate per second (20) for --seconds (30);
               the time of each commit (an on_commit callback registered before the emit)
               to the receiver's receipt: p50, p95, max.

The receiver is a Python HTTP/1.1 server (keep-alive, 200 + a short JSON body) in its own
process on 127.0.0.1, allow-listed with WEBHOOK_ALLOWED_HOSTS; Redis is a redis-server of
this run's own. Checks: every event received exactly once (by event id), every signature
valid (communities.webhooks.verify, the receivers' reference check), every delivery
`delivered` with one attempt, no 2xx missing from the plain loop. One summary line per
figure and bench/results/webhooks-<ts>.json. See bench/README.md.

No Django in this process: `python bench/webhooks.py django <command>` and
`python bench/webhooks.py receiver` are the subprocesses it starts.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    PYTHON,
    RESULTS,
    Checked,
    Json,
    Processes,
    Run,
    base_env,
    celery_worker,
    chorus_env,
    free_port,
    host,
    last_json_line,
    log,
    log_wait,
    migrate,
    pg_recreate,
    pg_settings,
    pg_url,
    print_checks,
    redis_server,
    run,
    sqlite_fresh,
    status_text,
)
from communities.webhooks.verify import signature_verify  # noqa: E402 - stdlib only

SCRIPT = Path(__file__).resolve()
DB_NAME = "chorus_bench_webhooks"
HOOK_PATH = "/hooks/chorus"
PLAIN_PATH = "/plain"


# --- the receiver (its own process) ----------------------------------------------------------


def receiver_main(port: int, out: Path) -> None:
    """Answer every POST 200 at once; append "time, path, event id, signature, body" to `out`."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    sink = open(out, "a", buffering=1, encoding="ascii")  # noqa: SIM115 - lives with the process
    answer = b'{"received":true}'

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: without this, Nagle holds the body until
        # the client's delayed ACK, 40 ms per request on loopback.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            now = time.time()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            event_id = json.loads(body)["id"]
            signature = self.headers.get("Chorus-Signature", "")
            encoded = base64.b64encode(body).decode()
            sink.write(f"{now:.6f}\t{self.path}\t{event_id}\t{signature}\t{encoded}\n")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


def receipts(out: Path, path: str, prefix: str) -> list[tuple[float, str, str, bytes]]:
    """(time, event id, signature, body) of each request to `path` for events of `prefix`."""
    rows = []
    if not out.exists():
        return rows
    for line in out.read_text(encoding="ascii").splitlines():
        stamp, got_path, event_id, signature, encoded = line.split("\t")
        if got_path == path and event_id.startswith(f"{prefix}:"):
            rows.append((float(stamp), event_id, signature, base64.b64decode(encoded)))
    return rows


# --- the Django side (a subprocess under Chorus's settings) -----------------------------------


def django_main(command: str, options: Json) -> Json:
    import django

    django.setup()
    from django.db import transaction

    from communities.models import Organisation
    from communities.webhooks.choices import DeliveryStatus, WebhookEvent
    from communities.webhooks.delivery import delivery_body
    from communities.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
    from communities.webhooks.services import webhook_emit, webhook_endpoint_create

    def data(n: int) -> Json:
        # What a response.created carries: ids, channel, language, the answers.
        answers = {f"q_{q}": (n + q) % 11 for q in range(1, 5)}
        answers["q_5"] = "The coffee was cold and the queue was long, but the staff were kind."
        return {
            "survey": 1,
            "response": n,
            "channel": "web",
            "language": "en",
            "submitted_at": "2026-12-06T09:30:00Z",
            "answers": answers,
        }

    if command == "seed":
        organisation = Organisation.objects.create(name="Bench Coffee", slug="bench-coffee")
        endpoint, secret = webhook_endpoint_create(
            organisation=organisation, url=options["url"], events=[WebhookEvent.RESPONSE_CREATED]
        )
        return {"organisation": organisation.pk, "endpoint": endpoint.pk, "secret": secret}
    organisation_id = options.get("organisation")
    if command == "burst":
        with transaction.atomic():
            written = sum(
                webhook_emit(
                    organisation=organisation_id,
                    event=WebhookEvent.RESPONSE_CREATED,
                    data=data(n),
                    event_id=f"{options['prefix']}:{n}",
                )
                for n in range(options["count"])
            )
        bodies = [
            base64.b64encode(delivery_body(delivery=d)).decode()
            for d in WebhookDelivery.objects.filter(event_id__startswith=f"{options['prefix']}:")
        ]
        return {"written": written, "bodies": bodies}
    if command == "paced":
        committed: dict[str, float] = {}
        interval = 1 / options["rate"]
        start = time.monotonic()
        for n in range(options["count"]):
            time.sleep(max(0.0, start + n * interval - time.monotonic()))
            event_id = f"{options['prefix']}:{n}"
            with transaction.atomic():
                # Registered before the emit's own callback (the enqueue): runs first.
                transaction.on_commit(lambda e=event_id: committed.__setitem__(e, time.time()))
                webhook_emit(
                    organisation=organisation_id,
                    event=WebhookEvent.RESPONSE_CREATED,
                    data=data(n),
                    event_id=event_id,
                )
        return {"committed": committed, "emit_s": time.monotonic() - start}
    if command == "state":
        deliveries = WebhookDelivery.objects.filter(event_id__startswith=f"{options['prefix']}:")
        return {
            "deliveries": deliveries.count(),
            "delivered": deliveries.filter(status=DeliveryStatus.DELIVERED).count(),
            "attempts": WebhookAttempt.objects.filter(delivery__in=deliveries).count(),
            "endpoint_active": WebhookEndpoint.objects.get(pk=options["endpoint"]).active,
        }
    raise SystemExit(f"unknown command {command}")


def django(env: dict[str, str], command: str, timeout: float = 600, **options) -> Json:
    argv = [PYTHON, str(SCRIPT), "django", command, json.dumps(options)]
    return last_json_line(run(argv, env=env, timeout=timeout))


# --- the figures ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Figure(Checked):
    def __init__(self, name: str, db: str) -> None:
        self.name, self.db = name, db
        self.checks: list[Json] = []
        self.values: Json = {}

    def as_json(self) -> Json:
        return {"name": self.name, "db": self.db, **self.values, "checks": self.checks}


def signed_by(secret: str, rows: list[tuple[float, str, str, bytes]]) -> int:
    # tolerance: checked after the run, so a receipt's age is not a replay here.
    return sum(
        signature_verify(secret=secret, header=sig, body=body, tolerance=10**6)
        for _t, _e, sig, body in rows
    )


def exactly_once(fig: Figure, rows, expected: set[str]) -> None:
    got = [event_id for _t, event_id, _s, _b in rows]
    fig.check(
        "every event received exactly once",
        set(got) == expected and len(got) == len(expected),
        f"{len(got)} receipts, {len(set(got))} distinct, {len(expected)} emitted",
    )


def wait_receipts(out: Path, path: str, prefix: str, n: int, timeout: float, alive) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = receipts(out, path, prefix)
        if len(rows) >= n or any(p.poll() is not None for p in alive):
            return rows
        time.sleep(0.2)
    return receipts(out, path, prefix)


def plain_loop(url: str, bodies: list[bytes], secret: str) -> tuple[float, int]:
    """One httpx client, one request after another: (seconds, 2xx answers)."""
    import httpx

    ok = 0
    with httpx.Client(timeout=10, follow_redirects=False, trust_env=False) as client:
        started = time.perf_counter()
        for n, body in enumerate(bodies):
            stamp = int(time.time())
            digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Chorus-Webhooks/1",
                "Chorus-Event": "response.created",
                "Chorus-Delivery": str(n),
                "Chorus-Signature": f"t={stamp},v1={digest.hexdigest()}",
            }
            ok += client.post(url, content=body, headers=headers).is_success
        return time.perf_counter() - started, ok


def measure(db: str, database_url: str, args: argparse.Namespace, procs: Processes) -> list:
    log(f"{db}: migrating")
    port = free_port()
    out = procs.log_dir / f"receipts-{db}.tsv"
    receiver = procs.start(
        f"receiver-{db}",
        [PYTHON, str(SCRIPT), "receiver", "--port", str(port), "--out", str(out)],
        env={**base_env(), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"},
    )
    log_wait(procs.log_dir / f"receiver-{db}.log", "ready", receiver, timeout=30)
    with redis_server(procs) as redis_url:
        env = {
            **chorus_env(database_url, redis_url),
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            # The batch's size and concurrency may be tried from the command line.
            **{k: v for k, v in os.environ.items() if k.startswith("WEBHOOK_SEND_")},
        }
        migrate(env)
        seeded = django(env, "seed", url=f"http://127.0.0.1:{port}{HOOK_PATH}")
        secret = seeded["secret"]

        log(f"{db}: emitting {args.events} events with no worker running")
        burst = django(
            env, "burst", organisation=seeded["organisation"], prefix="burst", count=args.events
        )
        deliveries = Figure("deliveries", db)
        deliveries.check(
            "a delivery per event", burst["written"] == args.events, str(burst["written"])
        )
        with celery_worker(procs, f"worker-{db}", env) as worker:
            log(f"{db}: worker draining")
            rows = wait_receipts(
                out, HOOK_PATH, "burst", args.events, args.drain_timeout, [worker, receiver]
            )
            times = [t for t, *_ in rows]
            chorus_s = (max(times) - min(times)) if len(times) > 1 else float("nan")
            exactly_once(deliveries, rows, {f"burst:{n}" for n in range(args.events)})
            valid = signed_by(secret, rows)
            deliveries.check("every signature valid", valid == len(rows), f"{valid}/{len(rows)}")
            state = django(env, "state", prefix="burst", endpoint=seeded["endpoint"])
            deliveries.check(
                "every delivery delivered, one attempt each",
                state["delivered"] == state["deliveries"] == state["attempts"] == args.events,
                json.dumps(state),
            )

            log(f"{db}: the plain httpx loop")
            bodies = [base64.b64decode(b) for b in burst["bodies"]]
            plain_s, plain_ok = plain_loop(f"http://127.0.0.1:{port}{PLAIN_PATH}", bodies, secret)
            plain_rows = wait_receipts(out, PLAIN_PATH, "burst", len(bodies), 30, [receiver])
            deliveries.check(
                "plain loop: every request 2xx and received",
                plain_ok == len(bodies) == len(plain_rows) == args.events,
                f"{plain_ok} 2xx, {len(plain_rows)} received",
            )
            chorus_rate = (len(times) - 1) / chorus_s if chorus_s else float("nan")
            plain_rate = len(bodies) / plain_s
            deliveries.values = {
                "events": args.events,
                "worker_per_s": round(chorus_rate, 1),
                "plain_per_s": round(plain_rate, 1),
                "ratio": round(chorus_rate / plain_rate, 3),
            }

            count = int(args.rate * args.seconds)
            log(f"{db}: {count} events paced at {args.rate}/s")
            paced = django(
                env,
                "paced",
                timeout=args.seconds * 4 + 120,
                organisation=seeded["organisation"],
                prefix="paced",
                count=count,
                rate=args.rate,
            )
            rows = wait_receipts(out, HOOK_PATH, "paced", count, 60, [worker, receiver])
            latency = Figure("latency", db)
            exactly_once(latency, rows, set(paced["committed"]))
            valid = signed_by(secret, rows)
            latency.check("every signature valid", valid == len(rows), f"{valid}/{len(rows)}")
            delays = [
                (t - paced["committed"][e]) * 1000 for t, e, *_ in rows if e in paced["committed"]
            ]
            achieved = count / paced["emit_s"] if paced["emit_s"] else 0
            latency.check(
                "the pace was kept", achieved >= args.rate * 0.95, f"{achieved:.1f} events/s"
            )
            state = django(env, "state", prefix="paced", endpoint=seeded["endpoint"])
            latency.check(
                "every delivery delivered, one attempt each",
                state["delivered"] == state["deliveries"] == state["attempts"] == count,
                json.dumps(state),
            )
            latency.values = {
                "events": count,
                "rate": args.rate,
                "achieved_rate": round(achieved, 1),
                "p50_ms": round(statistics.median(delays), 1) if delays else None,
                "p95_ms": round(percentile(delays, 95), 1) if delays else None,
                "max_ms": round(max(delays), 1) if delays else None,
            }
    procs.stop(receiver)
    return [deliveries, latency]


def summary(fig: Figure) -> str:
    v = fig.values
    if fig.name == "deliveries":
        text = (
            f"webhooks {fig.db:<10} deliveries/s ({v.get('events')} events)  "
            f"worker (solo) {v.get('worker_per_s')}/s  plain httpx loop {v.get('plain_per_s')}/s"
            f"  {v.get('ratio')}x plain"
        )
    else:
        text = (
            f"webhooks {fig.db:<10} cause -> receipt at {v.get('rate')}/s "
            f"({v.get('events')} events)  p50 {v.get('p50_ms')} ms  p95 {v.get('p95_ms')} ms"
            f"  max {v.get('max_ms')} ms"
        )
    return f"{text}  {status_text(fig.checks)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgresql,sqlite", help="postgresql,sqlite")
    parser.add_argument("--events", type=int, default=2000, help="events of the deliveries figure")
    parser.add_argument("--rate", type=float, default=20.0, help="events/s of the latency figure")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the latency figure")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--db-name", default=DB_NAME)
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", args.db_name):
        raise SystemExit("--db-name: lower-case letters, digits and _ only")
    if not (0 < args.events <= 100_000 and 0 < args.rate <= 500 and 0 < args.seconds <= 600):
        raise SystemExit("--events up to 100000, --rate up to 500, --seconds up to 600")

    bench_run = Run("webhooks")
    figures: list[Figure] = []
    databases: Json = {}
    with bench_run.workdir():
        for db in [d.strip() for d in args.db.split(",") if d.strip()]:
            if db == "postgresql":
                pg_recreate(args.db_name)
                databases[db] = pg_settings(args.db_name)
                figures += measure(db, pg_url(args.db_name), args, bench_run.procs)
            elif db == "sqlite":
                path = RESULTS / f"{args.db_name}.sqlite3"
                sqlite_fresh(path)
                databases[db] = {"sqlite_version": sqlite3.sqlite_version}
                figures += measure(db, f"sqlite:///{path}", args, bench_run.procs)
            else:
                raise SystemExit(f"--db: unknown database {db}")
    print()
    for fig in figures:
        print(summary(fig))
        print_checks(fig.checks)
    ok = all(f.ok for f in figures)
    report = {
        **bench_run.report(),
        "host": host("django", "celery", "httpx", databases=databases),
        "load": {"events": args.events, "rate": args.rate, "seconds": args.seconds},
        "figures": [f.as_json() for f in figures],
        "ok": ok,
    }
    bench_run.save(report)
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "receiver":
        receiver = argparse.ArgumentParser()
        receiver.add_argument("receiver")
        receiver.add_argument("--port", type=int, required=True)
        receiver.add_argument("--out", type=Path, required=True)
        options = receiver.parse_args()
        receiver_main(options.port, options.out)
    elif len(sys.argv) > 1 and sys.argv[1] == "django":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline.settings")
        print(json.dumps(django_main(sys.argv[2], json.loads(sys.argv[3]))))
    else:
        sys.exit(main())
