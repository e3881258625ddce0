"""`make bench-submit`: full survey submissions per second, beside their baselines.

One scripted run measures, through gunicorn (-w 2 sync workers on 127.0.0.1) and wrk
(-t1 -c8), on PostgreSQL and on SQLite:

* bare view        - a short string through Chorus's full middleware stack;
* minimal submit   - a small form validated and one row INSERTed in a transaction;
* Chorus submit    - POST /s/<public_id>/ by a different signed-in member each time
                     (CSRF, validation, response + answers + participation + ledger, and for
                     the 30 % detractors a case + consent + outbox row, one transaction);
                     on PostgreSQL once with tasks run eagerly (no Redis) and once with
                     Redis and a real Celery worker;
* peer submit      - django-survey-and-report's POST /survey/<id>/ with the equivalent survey,
                     installed into bench/.peer-venv.

Every figure comes with correctness checks (rows written == requests accepted, no
non-2xx/3xx, no duplicates, ledger sum == responses x points, cases == detractors), one
summary line each, and JSON in bench/results/submit-<timestamp>.json. See bench/README.md.

The script imports no Django: seeding and counting run as subprocesses under the settings
and the virtualenv of the app being measured, so PostgreSQL and SQLite never share a process.
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
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LUA = BENCH / "submit.lua"
VENV_BIN = ROOT / ".venv" / "bin"
PEER_VENV = BENCH / ".peer-venv"
PEER_SRC = BENCH / "peer"
PEER_PACKAGE = "django-survey-and-report==1.5.0"

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_DB = "chorus_bench"
PG_PEER_DB = "chorus_bench_peer"
REDIS_DB = 15

# Fixed so the sessions minted by the seed are valid in gunicorn: both sign with it.
SECRET_KEY = "bench-submit-not-a-secret-" + "x" * 40
WRK_THREADS = 1
WRK_CONNECTIONS = 8
WORKERS = 2
DETRACTOR_SLOTS = (1, 4, 8)  # 3 of every 10 requests: 30 % detractors
DETRACTOR_NPS = (2, 5, 6)
PROMOTER_NPS = (9, 10, 8, 7, 10, 9, 10)
TEXT_DETRACTOR = "The wait was terrible and the cup was cold."
TEXT_OTHER = "Great coffee and friendly staff, lovely place!"

Json = dict[str, Any]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- processes: everything started is tracked and stopped by its PID ----------------------


class Processes:
    """The processes this run started; stop() ends them by PID, newest first."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(
        self, name: str, cmd: list[str], *, env: dict[str, str], cwd: Path = ROOT
    ) -> subprocess.Popen:
        # Closed right after the fork: the child keeps its own descriptor.
        logfile = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        logfile.close()
        self.running.append((name, proc))
        log(f"started {name} (pid {proc.pid})")
        return proc

    def stop(self, proc: subprocess.Popen, *, timeout: float = 15) -> None:
        if proc.poll() is None:
            # SIGTERM lets gunicorn and celery finish the request or task in hand.
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.running = [(n, p) for n, p in self.running if p is not proc]

    def stop_all(self) -> None:
        for name, proc in reversed(list(self.running)):
            log(f"stopping {name} (pid {proc.pid})")
            self.stop(proc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd: list[str], *, env: dict[str, str], cwd: Path = ROOT, timeout: float = 300) -> str:
    """Run a command to completion and return its stdout; fail loudly with its stderr."""
    done = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout


def last_json_line(text: str) -> Json:
    """The JSON a seed/check command printed (its last line; logs may precede it)."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON in output:\n{text[-2000:]}")


# --- HTTP helpers (no redirects followed: a 302 is the answer we measure) ------------------


def http_get(port: int, path: str, cookie: str | None = None) -> tuple[int, list[str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        return resp.status, resp.msg.get_all("Set-Cookie") or [], body
    finally:
        conn.close()


def wait_http(port: int, path: str, proc: subprocess.Popen, *, timeout: float = 60) -> None:
    """Wait until the server answers `path` with a 2xx/3xx, or fail if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, _cookies, _body = http_get(port, path)
            if 200 <= status < 400:
                return
        time.sleep(0.25)
    raise RuntimeError(f"server on port {port} not ready after {timeout}s")


def csrf_pair(port: int, path: str, cookie: str | None = None) -> tuple[str, str]:
    """GET a page once like a browser: returns (csrftoken cookie, form token).

    Django validates the form token against the cookie's secret, so one pair serves
    every request of a run.
    """
    status, set_cookies, body = http_get(port, path, cookie)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    jar = SimpleCookie()
    for header in set_cookies:
        jar.load(header)
    if "csrftoken" not in jar:
        raise RuntimeError(f"GET {path} set no csrftoken cookie")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    # The minimal view answers with the bare token instead of a form.
    token = match.group(1) if match else body.strip()
    return f"csrftoken={jar['csrftoken'].value}", token


# --- load ----------------------------------------------------------------------------------


@dataclass
class Target:
    """One endpoint under load and what a run of it needs."""

    method: str
    path: str
    bodies: list[str] = field(default_factory=list)
    sessions: Path | None = None
    cookie: str | None = None
    location: str = ""  # a 3xx must point here to count as success


def wrk(port: int, target: Target, *, seconds: int, run_id: str, workdir: Path) -> Json:
    """Load `target` for `seconds` with wrk -t1 -c8; returns the Lua script's counts."""
    bodies_file = "-"
    if target.bodies:
        bodies_path = workdir / f"{run_id}-bodies.txt"
        bodies_path.write_text("\n".join(target.bodies) + "\n")
        bodies_file = str(bodies_path)
    cmd = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{target.path}",
        "--",
        target.method,
        target.path,
        str(target.sessions) if target.sessions else "-",
        bodies_file,
        target.cookie or "-",
        run_id,
        str(WRK_THREADS),
        target.location or "-",
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
    result["accepted"] = result["s2xx"] + result["s3xx"] - result["bad_location"]
    result["in_flight"] = result["sent"] - result["received"]
    result["rate"] = result["accepted"] / (result["duration_us"] / 1e6)
    return result


@dataclass
class Figure:
    name: str
    db: str
    label: str
    wrk: Json
    counts: Json = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.wrk["rate"]

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": name, "ok": bool(ok), "detail": detail})


def transport_checks(fig: Figure) -> None:
    """What every figure must show on the wire: only 2xx/3xx, no errors, members unique."""
    w = fig.wrk
    bad = w["s4xx"] + w["s5xx"] + w["other"] + w["bad_location"]
    errors = sum(w["errors"].values())
    fig.check(
        "0 non-2xx/3xx, 0 socket errors",
        bad == 0 and errors == 0,
        f"4xx={w['s4xx']} 5xx={w['s5xx']} wrong-redirect={w['bad_location']} errors={w['errors']}",
    )
    if w["reused_sessions"]:
        fig.check(
            "one member per request",
            False,
            f"{w['reused_sessions']} requests reused a session: raise --members",
        )


def row_checks(fig: Figure, counts: Json, *, answers_per_response: int | None = None) -> None:
    """Rows written == requests accepted (+ those wrk left in flight when it stopped)."""
    w = fig.wrk
    fig.counts = counts
    n = counts["responses"]
    expected = w["accepted"] + w["in_flight"]
    fig.check(
        "rows written == requests accepted",
        n == expected,
        f"rows={n} accepted={w['accepted']} + in flight at wrk's stop={w['in_flight']}",
    )
    dupes = (
        (n - counts["distinct_keys"])
        + counts.get("members_with_several_responses", 0)
        + counts.get("responses_without_member", 0)
    )
    fig.check("no duplicate responses", dupes == 0, f"duplicates or memberless rows={dupes}")
    if answers_per_response is not None:
        fig.check(
            "every question answered",
            counts["answers"] == n * answers_per_response,
            f"answers={counts['answers']} expected={n * answers_per_response}",
        )


def chorus_checks(fig: Figure, counts: Json) -> None:
    row_checks(fig, counts, answers_per_response=4)
    n = counts["responses"]
    c = counts
    fig.check(
        "participation + 3 choice rows per response",
        c["participations"] == n and c["answer_choices"] == 3 * n,
        f"participations={c['participations']} answer_choices={c['answer_choices']}",
    )
    fig.check(
        "ledger sum == responses x points",
        c["ledger_entries"] == n and c["ledger_sum"] == n * c["points"],
        f"entries={c['ledger_entries']} sum={c['ledger_sum']} expected={n * c['points']}",
    )
    share = c["detractors"] / n if n else 0.0
    fig.check(
        "30 % detractors",
        abs(share - 0.30) <= 0.02,
        f"detractors={c['detractors']} ({share:.1%})",
    )
    fig.check("cases == detractors", c["cases"] == c["detractors"], f"cases={c['cases']}")
    fig.check(
        "consent stored for every detractor (and nobody else)",
        c["consented_detractors"] == c["detractors"] == c["consented_total"],
        f"consented detractors={c['consented_detractors']} consented in all={c['consented_total']}",
    )
    fig.check(
        "outbox row per consenting detractor",
        c["outbox"] == c["consented_detractors"],
        f"outbox={c['outbox']}",
    )
    fig.check(
        "follow-ups sent and responses analysed",
        c["outbox_sent"] == c["outbox"] and c["analysed"] == n,
        f"sent={c['outbox_sent']}/{c['outbox']} analysed={c['analysed']}/{n}",
    )


# --- request bodies ------------------------------------------------------------------------


def chorus_bodies(survey: Json, token: str) -> list[str]:
    """Ten bodies, three of them detractors who tick consent-to-contact, each with text."""
    nps, single = survey["nps"]["field"], survey["single_choice"]
    multi, text = survey["multi_choice"], survey["text"]["field"]
    bodies = []
    promoters = iter(PROMOTER_NPS)
    detractors = iter(DETRACTOR_NPS)
    for i in range(10):
        detractor = i in DETRACTOR_SLOTS
        data = [
            ("csrfmiddlewaretoken", token),
            ("idempotency_key", "__KEY__"),
            (nps, next(detractors) if detractor else next(promoters)),
            (single["field"], single["choices"][i % 3]),
            (multi["field"], multi["choices"][i % 4]),
            (multi["field"], multi["choices"][(i + 1) % 4]),
            (text, TEXT_DETRACTOR if detractor else TEXT_OTHER),
        ]
        if detractor:
            data.append(("consent_to_contact", "on"))
        bodies.append(urllib.parse.urlencode(data))
    return bodies


def peer_bodies(survey: Json, token: str) -> list[str]:
    """The same ten answers in django-survey-and-report's field names and values."""
    q_nps, q_single, q_multi, q_text = (survey[f"q{n}"] for n in range(1, 5))
    bodies = []
    promoters = iter(PROMOTER_NPS)
    detractors = iter(DETRACTOR_NPS)
    for i in range(10):
        detractor = i in DETRACTOR_SLOTS
        score = next(detractors) if detractor else next(promoters)
        data = [
            ("csrfmiddlewaretoken", token),
            (q_nps["field"], q_nps["choices"][score]),
            (q_single["field"], q_single["choices"][i % 3]),
            (q_multi["field"], q_multi["choices"][i % 4]),
            (q_multi["field"], q_multi["choices"][(i + 1) % 4]),
            (q_text["field"], TEXT_DETRACTOR if detractor else TEXT_OTHER),
        ]
        bodies.append(urllib.parse.urlencode(data))
    return bodies


def minimal_bodies(token: str) -> list[str]:
    return [
        urllib.parse.urlencode(
            [("csrfmiddlewaretoken", token), ("key", "__KEY__"), ("score", str(i))]
        )
        for i in range(10)
    ]


# --- databases -----------------------------------------------------------------------------


def pg_recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_settings(name: str) -> Json:
    """The server settings that decide what a commit costs, read from the bench database."""
    import psycopg

    dsn = PG_DSN.replace("dbname=postgres", f"dbname={name}")
    with psycopg.connect(dsn) as conn:
        values = {
            setting: conn.execute(f"SHOW {setting}").fetchone()[0]
            for setting in ("synchronous_commit", "fsync", "wal_sync_method", "server_version")
        }
    if values["synchronous_commit"] != "on":
        raise RuntimeError(f"synchronous_commit is {values['synchronous_commit']!r}, not 'on'")
    return values


def sqlite_fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- the app environments ------------------------------------------------------------------


def base_env() -> dict[str, str]:
    """A clean environment: inherited DATABASE_URL/REDIS_URL must never leak into a run."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
    return {k: os.environ[k] for k in keep if k in os.environ}


def chorus_env(database_url: str, redis_url: str = "") -> dict[str, str]:
    return {
        **base_env(),
        "DJANGO_SETTINGS_MODULE": "bench.baseline.settings",
        "DATABASE_URL": database_url,
        # Empty, not absent: no Redis means eager tasks in the web process.
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "STATIC_MANIFEST": "false",
        # Follow-up emails are rendered and "sent", to nowhere: SMTP is another figure.
        "EMAIL_URL": "dummymail://",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def gunicorn_cmd(gunicorn: Path, app: str, port: int, chdir: Path) -> list[str]:
    return [
        str(gunicorn),
        app,
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(chdir),
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]


@contextlib.contextmanager
def server(
    procs: Processes, name: str, cmd: list[str], env: dict[str, str], port: int, ready: str
) -> Iterator[subprocess.Popen]:
    proc = procs.start(name, cmd, env=env)
    try:
        wait_http(port, ready, proc)
        yield proc
    finally:
        procs.stop(proc)


class Bench:
    """One run: its options, its processes and the figures it collected."""

    def __init__(self, args: argparse.Namespace, procs: Processes, workdir: Path) -> None:
        self.args = args
        self.procs = procs
        self.workdir = workdir
        self.figures: list[Figure] = []
        self.context: Json = {}

    def measure(
        self,
        port: int,
        target: Target,
        name: str,
        db: str,
        label: str,
        warmup: Target | None = None,
    ) -> Figure:
        """Warm the workers up (imports, templates, connections), then the measured run."""
        warm = None
        if self.args.warmup:
            warm = wrk(
                port,
                warmup or target,
                seconds=self.args.warmup,
                run_id=f"warm-{db}-{name}",
                workdir=self.workdir,
            )
            # Let the warm-up's last requests finish before the measured run starts.
            time.sleep(1.0)
        log(f"measuring {db} {label} for {self.args.duration}s")
        result = wrk(
            port, target, seconds=self.args.duration, run_id=f"{db}-{name}", workdir=self.workdir
        )
        fig = Figure(name=name, db=db, label=label, wrk=result)
        if warm is not None:
            # A warm-up that failed (say, members who already answered) warms the wrong path.
            bad = warm["s4xx"] + warm["s5xx"] + warm["other"] + warm["bad_location"]
            fig.check(
                "warm-up answered 2xx/3xx only",
                bad == 0 and not sum(warm["errors"].values()),
                f"{warm['accepted']} accepted, {bad} not, errors={warm['errors']}",
            )
        transport_checks(fig)
        self.figures.append(fig)
        # In-flight requests at wrk's stop still finish server-side; let them commit.
        time.sleep(1.0)
        return fig

    # -- Chorus ---------------------------------------------------------------------------

    def chorus(self, db: str, database_url: str, *, with_redis: bool) -> None:
        env = chorus_env(database_url)
        python = str(VENV_BIN / "python")
        log(f"{db}: migrating and seeding {self.args.members} members")
        run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env=env)
        labels = ["warm", "eager"] + (["warm-redis", "redis"] if with_redis else [])
        sessions = self.workdir / f"chorus-{db}-sessions.txt"
        seed = last_json_line(
            run(
                [
                    python,
                    "manage.py",
                    "bench_seed",
                    "--members",
                    str(self.args.members),
                    "--surveys",
                    ",".join(labels),
                    "--sessions-out",
                    str(sessions),
                ],
                env=env,
            )
        )
        surveys = seed["surveys"]

        def check(public_id: str | None = None, key_prefix: str = "") -> Json:
            cmd = [python, "manage.py", "bench_check", "--key-prefix", key_prefix]
            cmd += ["--survey", public_id] if public_id else []
            return last_json_line(run(cmd, env=env))

        def submit_targets(port: int, label: str) -> tuple[Target, Target]:
            def target(survey: Json) -> Target:
                path = f"/s/{survey['public_id']}/"
                cookie, token = csrf_pair(port, path)
                return Target(
                    "POST",
                    path,
                    bodies=chorus_bodies(survey, token),
                    sessions=sessions,
                    cookie=cookie,
                    location=f"/s/{survey['public_id']}/thanks/",
                )

            # Warm-up answers its own survey, so the measured one starts empty and
            # the same members can answer both.
            warm = {"eager": "warm", "redis": "warm-redis"}[label]
            return target(surveys[label]), target(surveys[warm])

        port = free_port()
        cmd = gunicorn_cmd(VENV_BIN / "gunicorn", "config.wsgi:application", port, ROOT)
        with server(self.procs, f"gunicorn-chorus-{db}", cmd, env, port, "/bench/bare/"):
            self.measure(port, Target("GET", "/bench/bare/"), "bare", db, "bare view")

            cookie, token = csrf_pair(port, "/bench/minimal/")
            minimal = Target(
                "POST", "/bench/minimal/", minimal_bodies(token), cookie=cookie, location="/bench/"
            )
            fig = self.measure(port, minimal, "minimal", db, "minimal submit")
            # Keys start with the run id; the warm-up's rows carry another one.
            row_checks(fig, check(key_prefix=f"{db}-minimal-"))

            measured, warm = submit_targets(port, "eager")
            fig = self.measure(
                port, measured, "chorus", db, "Chorus submit (no Redis: eager tasks)", warm
            )
            chorus_checks(fig, check(surveys["eager"]["public_id"]))
            fig.notes.append(
                "REDIS_URL unset: the sentiment task (every submission has text) and the "
                "follow-up send (detractors) run in the web request after commit"
            )

        if with_redis:
            self.chorus_redis(db, database_url, surveys, check, submit_targets)

    def chorus_redis(
        self,
        db: str,
        database_url: str,
        surveys: Json,
        check: Callable[..., Json],
        submit_targets: Callable[[int, str], tuple[Target, Target]],
    ) -> None:
        """The production shape: tasks go to Redis, a Celery worker runs them beside gunicorn."""
        redis_port = free_port()
        redis = self.procs.start(
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
            env=base_env(),
        )
        try:
            redis_wait(redis_port, redis)
            env = chorus_env(database_url, f"redis://127.0.0.1:{redis_port}/{REDIS_DB}")
            worker = self.procs.start(
                "celery-worker",
                [
                    str(VENV_BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    "chorus",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                ],
                env=env,
            )
            try:
                log_wait(self.procs.log_dir / "celery-worker.log", "ready.", worker)
                port = free_port()
                cmd = gunicorn_cmd(VENV_BIN / "gunicorn", "config.wsgi:application", port, ROOT)
                with server(
                    self.procs, f"gunicorn-chorus-{db}-redis", cmd, env, port, "/bench/bare/"
                ):
                    measured, warm = submit_targets(port, "redis")
                    fig = self.measure(
                        port, measured, "chorus-redis", db, "Chorus submit (Redis + worker)", warm
                    )
                # The worker owns sentiment and email now: wait (bounded) until it drains.
                started = time.monotonic()
                deadline = started + self.args.drain_timeout
                counts = check(surveys["redis"]["public_id"])
                while time.monotonic() < deadline and (
                    counts["analysed"] < counts["responses"]
                    or counts["outbox_sent"] < counts["outbox"]
                ):
                    if worker.poll() is not None:
                        break
                    time.sleep(2)
                    counts = check(surveys["redis"]["public_id"])
                drained = time.monotonic() - started
                chorus_checks(fig, counts)
                fig.notes.append(
                    f"a Celery worker (--pool=solo) shared the 2 cores during the run; it "
                    f"drained the sentiment and follow-up tasks {drained:.0f}s after wrk stopped"
                )
            finally:
                self.procs.stop(worker)
        finally:
            self.procs.stop(redis)

    # -- the peer ---------------------------------------------------------------------------

    def peer(self, db: str) -> None:
        python = peer_python()
        project = self.workdir / "peer"
        shutil.copytree(PEER_SRC, project / "peerproject", dirs_exist_ok=True)
        if db == "postgresql":
            pg_recreate(PG_PEER_DB)
            db_env = {"PEER_DB": "postgres", "PEER_DB_NAME": PG_PEER_DB}
        else:
            path = RESULTS / "peer-bench.sqlite3"
            sqlite_fresh(path)
            db_env = {"PEER_DB": "sqlite", "PEER_DB_NAME": str(path)}
        env = {
            **base_env(),
            **db_env,
            "SECRET_KEY": SECRET_KEY,
            "DJANGO_SETTINGS_MODULE": "peerproject.settings",
            "PYTHONPATH": str(project),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        sessions = self.workdir / f"peer-{db}-sessions.txt"
        log(f"{db}: migrating and seeding the peer")
        seed = last_json_line(
            run(
                [
                    python,
                    str(project / "peerproject" / "seed.py"),
                    "--members",
                    str(self.args.members),
                    "--surveys",
                    "warm,run",
                    "--sessions-out",
                    str(sessions),
                ],
                env=env,
                cwd=project,
            )
        )
        # A GET needs a signed-in user (need_logged_user); the last member never posts.
        viewer = sessions.read_text().split()[-1]

        port = free_port()
        gunicorn = PEER_VENV / "bin" / "gunicorn"
        cmd = gunicorn_cmd(gunicorn, "peerproject.wsgi:application", port, project)
        first = seed["surveys"]["warm"]["survey_id"]
        with server(self.procs, f"gunicorn-peer-{db}", cmd, env, port, f"/survey/{first}/"):

            def target(survey: Json) -> Target:
                path = f"/survey/{survey['survey_id']}/"
                cookie, token = csrf_pair(port, path, viewer)
                return Target(
                    "POST",
                    path,
                    bodies=peer_bodies(survey, token),
                    sessions=sessions,
                    cookie=cookie,
                    location="/survey/confirm/",
                )

            measured, warm = target(seed["surveys"]["run"]), target(seed["surveys"]["warm"])
            fig = self.measure(port, measured, "peer", db, "django-survey-and-report submit", warm)
        counts = last_json_line(
            run(
                [
                    python,
                    str(project / "peerproject" / "check.py"),
                    "--survey",
                    str(seed["surveys"]["run"]["survey_id"]),
                ],
                env=env,
                cwd=project,
            )
        )
        row_checks(fig, counts, answers_per_response=4)
        fig.notes.append(
            "signed-in users (need_logged_user), one response each; no points, cases or "
            "emails: the app has none"
        )


def redis_wait(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("redis-server exited")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return
        time.sleep(0.2)
    raise RuntimeError("redis-server not ready")


def log_wait(path: Path, marker: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{path.name}: process exited:\n{path.read_text()[-2000:]}")
        if path.exists() and marker in path.read_text(errors="replace"):
            return
        time.sleep(0.25)
    raise RuntimeError(f"{path.name}: no {marker!r} after {timeout}s")


def peer_python() -> str:
    """bench/.peer-venv with django-survey-and-report on Chorus's Django/gunicorn/psycopg.

    Same framework, server and driver versions as Chorus, so the peer figure measures the
    app. Installed once and reused while the pinned set is unchanged.
    """
    pins = [
        PEER_PACKAGE,
        f"Django=={importlib.metadata.version('django')}",
        f"gunicorn=={importlib.metadata.version('gunicorn')}",
        f"psycopg[binary]=={importlib.metadata.version('psycopg')}",
    ]
    marker = PEER_VENV / ".bench-requirements"
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        log("creating bench/.peer-venv")
        run([sys.executable, "-m", "venv", str(PEER_VENV)], env=base_env(), timeout=120)
    if not marker.exists() or marker.read_text() != "\n".join(pins):
        log(f"installing {' '.join(pins)} into bench/.peer-venv")
        run([str(python), "-m", "pip", "install", "--quiet", *pins], env=base_env(), timeout=600)
        marker.write_text("\n".join(pins))
    return str(python)


# --- report --------------------------------------------------------------------------------


def ratios(figures: list[Figure]) -> None:
    """Each figure against the baselines of its database, all taken in this run.

    Chorus figures get all three; a baseline only the ones before it (minimal vs bare,
    peer vs bare and minimal), since "bare view = 3.9x minimal" says nothing new.
    """
    bases = ("bare", "minimal", "peer")
    for fig in figures:
        same_db = {f.name: f for f in figures if f.db == fig.db}
        wanted = bases[: bases.index(fig.name)] if fig.name in bases else bases
        fig.wrk["ratios"] = {
            base: round(fig.rate / same_db[base].rate, 3)
            for base in wanted
            if base in same_db and same_db[base].rate > 0
        }


def summary_line(fig: Figure) -> str:
    r = fig.wrk["ratios"]
    parts = [f"{r[b]:.2f}x {b}" for b in ("bare", "minimal", "peer") if b in r]
    failed = [c["check"] for c in fig.checks if not c["ok"]]
    status = "checks ok" if not failed else "CHECKS FAILED: " + "; ".join(failed)
    p50, p99 = (fig.wrk["latency_us"][p] / 1000 for p in ("p50", "p99"))
    return (
        f"submit {fig.db:<10} {fig.label:<40} {fig.rate:8.1f} req/s  "
        f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
        f"{'  '.join(parts):<38} {status}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per figure (>= 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per figure")
    parser.add_argument("--members", type=int, default=20000, help="signed-in members seeded")
    parser.add_argument("--drain-timeout", type=int, default=120, help="max wait for the worker")
    parser.add_argument("--db", default="postgresql,sqlite", help="postgresql,sqlite")
    parser.add_argument("--no-peer", action="store_true", help="skip django-survey-and-report")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis + worker figure")
    args = parser.parse_args()
    if args.duration < 10:
        log("note: under 10 s per endpoint is a smoke test, not a figure (BENCH.md)")
    for tool in ("wrk", "redis-server"):
        if shutil.which(tool) is None:
            if tool == "redis-server":
                args.no_redis = True
                log("redis-server not found: skipping the Redis + worker figure")
            else:
                raise SystemExit("wrk not found: apt-get install wrk")

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / f"submit-{stamp}-logs"
    log_dir.mkdir()
    procs = Processes(log_dir)
    started = time.monotonic()
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
        bench = Bench(args, procs, Path(tmp))
        try:
            if "postgresql" in dbs:
                pg_recreate(PG_DB)
                bench.context["postgresql"] = pg_settings(PG_DB)
                url = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
                bench.chorus("postgresql", url, with_redis=not args.no_redis)
                if not args.no_peer:
                    bench.peer("postgresql")
            if "sqlite" in dbs:
                path = RESULTS / "chorus-bench.sqlite3"
                sqlite_fresh(path)
                # The same interpreter (and so the same SQLite library) runs gunicorn.
                bench.context["sqlite"] = {
                    "sqlite_version": sqlite3.sqlite_version,
                    "pragmas": "journal_mode=WAL, synchronous=NORMAL, IMMEDIATE transactions",
                }
                bench.chorus("sqlite", f"sqlite:///{path}", with_redis=False)
                if not args.no_peer:
                    bench.peer("sqlite")
        finally:
            procs.stop_all()
    figures = bench.figures
    ratios(figures)
    print()
    for fig in figures:
        print(summary_line(fig))
        for check in fig.checks:
            mark = "ok  " if check["ok"] else "FAIL"
            print(f"    {mark} {check['check']}: {check['detail']}")
        for note in fig.notes:
            print(f"    note: {note}")
    ok = all(f.ok for f in figures)
    report = {
        "benchmark": "submit",
        "timestamp": stamp,
        "command": "make bench-submit  # " + " ".join(sys.argv[1:]),
        "elapsed_s": round(time.monotonic() - started, 1),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "django": importlib.metadata.version("django"),
            "gunicorn": importlib.metadata.version("gunicorn"),
            "peer": PEER_PACKAGE,
            "databases": bench.context,
        },
        "load": {
            "tool": "wrk",
            "threads": WRK_THREADS,
            "connections": WRK_CONNECTIONS,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "gunicorn_workers": WORKERS,
            "members": args.members,
            "detractor_share": len(DETRACTOR_SLOTS) / 10,
        },
        "figures": [
            {
                "name": f.name,
                "db": f.db,
                "label": f.label,
                "req_per_s": round(f.rate, 1),
                "ratios": f.wrk["ratios"],
                "wrk": f.wrk,
                "counts": f.counts,
                "checks": f.checks,
                "notes": f.notes,
            }
            for f in figures
        ],
        "ok": ok,
    }
    out = RESULTS / f"submit-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)} ({report['elapsed_s']} s); logs in {log_dir.name}/")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
