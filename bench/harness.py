"""What every benchmark script shares: its run, its processes, the app's environment, the
databases, the servers it starts (gunicorn, Redis, a Celery worker, the SMTP sink) and the
way it prints checks and writes its JSON.

No Django here: the app runs in the processes this module starts (gunicorn, `manage.py`
subprocesses), under the settings and the virtualenv being measured. Load (wrk) and the
figures it yields are in bench/load.py.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
SMTP_SINK = BENCH / "smtp_sink.py"

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
REDIS_DB = 15

# Fixed so the sessions minted by the seeds are valid in gunicorn: both sign with it.
SECRET_KEY = "bench-submit-not-a-secret-" + "x" * 40
WORKERS = 2

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

    @contextlib.contextmanager
    def scoped(
        self, name: str, cmd: list[str], env: dict[str, str], ready: Callable[[Any], None]
    ) -> Iterator[subprocess.Popen]:
        """Start `cmd`, wait for `ready(proc)`, and stop it by its PID when the block ends."""
        proc = self.start(name, cmd, env=env)
        try:
            ready(proc)
            yield proc
        finally:
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


def migrate(env: dict[str, str], *, timeout: float = 300) -> None:
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, timeout=timeout)


def manage(*argv: str, env: dict[str, str], timeout: float = 300) -> Json:
    """`manage.py <argv>` in the project's virtualenv; returns the JSON it printed last."""
    return last_json_line(run([PYTHON, "manage.py", *argv], env=env, timeout=timeout))


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


# --- databases -----------------------------------------------------------------------------


def pg_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


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
    """Chorus as in production, on plain HTTP on loopback, under bench.baseline.settings."""
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


# --- the servers a run starts, each stopped by its PID when its block ends ------------------


def server(
    procs: Processes,
    name: str,
    env: dict[str, str],
    port: int,
    ready: str,
    *,
    gunicorn: Path = VENV_BIN / "gunicorn",
    app: str = "config.wsgi:application",
    chdir: Path = ROOT,
) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """gunicorn -w 2 (sync) on 127.0.0.1:`port`, once it answers `ready` (Chorus by default)."""
    cmd = [
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
    return procs.scoped(name, cmd, env, lambda proc: wait_http(port, ready, proc))


@contextlib.contextmanager
def redis_server(procs: Processes) -> Iterator[str]:
    """A redis-server of this run's own, without persistence; yields its REDIS_URL."""
    port = free_port()
    cmd = ["redis-server", "--bind", "127.0.0.1", "--port", str(port)]
    cmd += ["--save", "", "--appendonly", "no"]
    with procs.scoped("redis", cmd, base_env(), lambda p: redis_wait(port, p)):
        yield f"redis://127.0.0.1:{port}/{REDIS_DB}"


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


def celery_worker(
    procs: Processes,
    name: str,
    env: dict[str, str],
    *,
    pool: str = "solo",
    concurrency: int | None = None,
    node: str | None = None,
) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """`celery -A config worker` on Chorus's queue, once its log says it is ready."""
    cmd = [str(VENV_BIN / "celery"), "-A", "config", "worker", f"--pool={pool}"]
    cmd += [f"--concurrency={concurrency}"] if concurrency else []
    # config.settings: CELERY_TASK_DEFAULT_QUEUE (env CELERY_QUEUE), no routes.
    cmd += ["-Q", "chorus"]
    cmd += ["-n", f"{node}@%h"] if node else []
    cmd += ["--loglevel=INFO", "--without-gossip", "--without-mingle"]
    log_path = procs.log_dir / f"{name}.log"
    return procs.scoped(name, cmd, env, lambda p: log_wait(log_path, "ready.", p))


def log_wait(path: Path, marker: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{path.name}: process exited:\n{path.read_text()[-2000:]}")
        if path.exists() and marker in path.read_text(errors="replace"):
            return
        time.sleep(0.25)
    raise RuntimeError(f"{path.name}: no {marker!r} after {timeout}s")


class Sink:
    """bench/smtp_sink.py in its own process; reads what it accepted from its file."""

    def __init__(self, procs: Processes, name: str) -> None:
        self.procs = procs
        self.port = free_port()
        self.out = procs.log_dir / f"{name}.tsv"
        env = {**base_env(), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
        cmd = [PYTHON, str(SMTP_SINK), "--port", str(self.port), "--out", str(self.out)]
        self.proc = procs.start(name, cmd, env=env)
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

    def stop(self) -> None:
        self.procs.stop(self.proc)


# --- checks and the report -----------------------------------------------------------------


def host(*packages: str, **extra: Any) -> Json:
    """The report's "host": CPUs, Python, the versions of `packages`, then `extra`."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        **{name: importlib.metadata.version(name) for name in packages},
        **extra,
    }


def add_check(checks: list[Json], name: str, ok: bool, detail: str) -> None:
    checks.append({"check": name, "ok": bool(ok), "detail": detail})


class Checked:
    """A figure holding its correctness checks: rows of {"check", "ok", "detail"}."""

    checks: list[Json]

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> None:
        add_check(self.checks, name, ok, detail)


def status_text(checks: list[Json]) -> str:
    failed = [c["check"] for c in checks if not c["ok"]]
    return "checks ok" if not failed else "CHECKS FAILED: " + "; ".join(failed)


def print_checks(checks: list[Json], notes: list[str] | None = None) -> None:
    for check in checks:
        mark = "ok  " if check["ok"] else "FAIL"
        print(f"    {mark} {check['check']}: {check['detail']}")
    for note in notes or []:
        print(f"    note: {note}")


class Run:
    """One run of `make bench-<name>`: its timestamp, log directory, processes and JSON.

    With logs=False (a run that starts no process) there is no log directory and no `procs`.
    """

    def __init__(self, name: str, *, logs: bool = True) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.log_dir: Path | None = None
        if logs:
            self.log_dir = RESULTS / f"{name}-{self.stamp}-logs"
            self.log_dir.mkdir()
            self.procs = Processes(self.log_dir)
        self.started = time.monotonic()

    @contextlib.contextmanager
    def workdir(self) -> Iterator[Path]:
        """A temporary run directory; every process still running is stopped at its end."""
        with tempfile.TemporaryDirectory(prefix=f"bench-{self.name}-") as tmp:
            try:
                yield Path(tmp)
            finally:
                self.procs.stop_all()

    def report(self) -> Json:
        """The head of the JSON report; the script adds its own keys after these."""
        return {
            "benchmark": self.name,
            "timestamp": self.stamp,
            "command": f"make bench-{self.name}  # " + " ".join(sys.argv[1:]),
            "elapsed_s": round(time.monotonic() - self.started, 1),
        }

    def save(self, report: Json) -> Path:
        """bench/results/<name>-<timestamp>.json, and a line saying where it and the logs are."""
        out = RESULTS / f"{self.name}-{self.stamp}.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        if self.log_dir is not None:
            print(
                f"\nwrote {out.relative_to(ROOT)} ({report['elapsed_s']} s); "
                f"logs in {self.log_dir.name}/"
            )
        return out
