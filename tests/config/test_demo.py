"""`make demo` runs the whole system, worker and beat included, with nothing to install.

The round trip starts the demo's own Procfile through honcho, as `make demo` does, over a
filesystem broker in a temporary folder: no Redis, no server of any kind.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from honcho.environ import parse_procfile

from tests.factories.surveys import SurveyFactory, SurveyInvitationFactory

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Inherited settings must not leak into a run: it gets exactly the environment it is given.
LEAKY = {
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "CELERY_BROKER_URL",
    "CELERY_BROKER_FOLDER",
    "CELERY_EAGER",
    "CELERY_BEAT_SCHEDULE_FILENAME",
    "REMINDER_SWEEP_SECONDS",
    "SITE_URL",
    "PORT",
    "HOST",
}


def clean_env(**env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in LEAKY}
    return {**base, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env}


def demo_env() -> dict[str, str]:
    """The environment the Makefile's demo targets give every demo process."""
    result = subprocess.run(
        ["make", "-s", "demo-env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(re.findall(r"^export (\w+)='(.*)'$", result.stdout, flags=re.M))


def settings_under(env: dict[str, str], *names: str) -> list[str]:
    code = "from django.conf import settings as s;" + "".join(
        f"print(repr({name}));" for name in names
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-len(names) :]


def test_the_demo_procfile_runs_web_worker_and_beat():
    # given the Procfile `make demo` hands to honcho
    processes = parse_procfile((ROOT / "Procfile.demo").read_text()).processes
    # then it names the web server, a real worker and beat
    assert {"web", "worker", "beat"} <= set(processes)
    assert list(processes)[0] == "web"  # honcho gives the first process the base $PORT
    assert "runserver" in processes["web"] and "$PORT" in processes["web"]
    assert re.search(r"\bcelery -A config worker\b", processes["worker"])
    assert re.search(r"\bcelery -A config beat\b", processes["beat"])


def test_the_demo_environment_picks_the_filesystem_broker_with_eager_mode_off(tmp_path):
    names = (
        "s.CELERY_BROKER_URL",
        "s.CELERY_TASK_ALWAYS_EAGER",
        "s.CELERY_BROKER_TRANSPORT_OPTIONS",
        "s.EMAIL_BACKEND",
        "s.EMAIL_FILE_PATH",
        "s.CELERY_BEAT_SCHEDULE['invitation-reminders']['schedule']",
    )
    # given the environment the Makefile's demo targets set, its folders moved to tmp
    env = demo_env()
    assert env["CELERY_BROKER_URL"].startswith("filesystem://")
    env |= {
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),
        # An absolute folder takes four slashes (a relative one is under the project).
        "EMAIL_URL": f"filemail:///{tmp_path / 'emails'}",
    }
    # when settings load under it
    broker, eager, options, email, folder, sweep = settings_under(env, *names)
    # then tasks go to a worker through files, and emails to files
    assert broker.startswith("'filesystem://") and eager == "False"
    queue = str(tmp_path / "broker" / "queue")
    assert f"'data_folder_in': '{queue}'" in options
    assert f"'data_folder_out': '{queue}'" in options
    assert (tmp_path / "broker" / "queue").is_dir()
    assert email == "'django.core.mail.backends.filebased.EmailBackend'"
    assert folder == repr(str(tmp_path / "emails"))
    # and the reminder sweep comes round within a minute
    assert float(sweep) <= 60
    # while without any of it (the tests, a bare manage.py) tasks still run eagerly,
    # emails go to the console and reminders are swept hourly
    broker, eager, _options, email, _folder, sweep = settings_under({"DEBUG": "true"}, *names)
    assert (broker, eager, sweep) == ("'memory://'", "True", "3600.0")
    assert email == "'django.core.mail.backends.console.EmailBackend'"


# --- the round trip: honcho, a real worker and beat over files ----------------------------


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    from tests.worker_fixtures import _database_url as postgres_url

    return postgres_url()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _started_pids(log: Path) -> dict[str, int]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return {name: int(pid) for name, pid in re.findall(r"(\w+)\.1 started \(pid=(\d+)\)", text)}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _reminder_files(folder: Path, address: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return [
        f
        for f in folder.iterdir()
        if f"To: {address}" in (text := f.read_text(errors="replace"))
        and "Subject: Reminder:" in text
    ]


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


@pytest.mark.django_db(transaction=True)
def test_make_demo_processes_send_a_due_reminder_and_stop_together_on_sigterm(tmp_path):
    # given an invitation nobody answered, sent more than a reminder interval ago
    survey = SurveyFactory(reminder_interval_days=1, reminder_limit=2)
    invitation = SurveyInvitationFactory(
        survey=survey, email="late@example.com", sent_at=timezone.now() - timedelta(days=1, hours=1)
    )
    emails = tmp_path / "emails"
    port = _free_port()
    env = demo_env() | {
        "DATABASE_URL": _database_url(),
        "CONN_MAX_AGE": "0",
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),
        "EMAIL_URL": f"filemail:///{emails}",
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "celerybeat-schedule"),
        "REMINDER_SWEEP_SECONDS": "1",
        "HOST": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
    }
    log = tmp_path / "honcho.log"
    # when the demo's web, worker and beat start, as `make demo` starts them
    with open(log, "wb") as out:
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "-f", "Procfile.demo", "-d", ".", "-e", "/dev/null"]
            + ["start", "-p", str(port), "web", "worker", "beat"],
            cwd=ROOT,
            env=clean_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # then beat's sweep, run by the worker, writes the reminder to the emails folder
        sent = _wait(lambda: _reminder_files(emails, "late@example.com"), timeout=60)
        assert sent, log.read_text(errors="replace")[-4000:]
        invitation.refresh_from_db()
        assert invitation.reminder_count == 1
        # and the web server answers on the port honcho gave it
        assert _wait(lambda: _answers(f"http://127.0.0.1:{port}/"), timeout=30)
        pids = _started_pids(log)
        assert set(pids) == {"web", "worker", "beat"}
        # when the runner is told to stop (as Ctrl-C or `kill` does)
        honcho.send_signal(signal.SIGTERM)
        honcho.wait(timeout=30)
        # then every process it started has stopped
        assert _wait(lambda: not any(_alive(pid) for pid in pids.values()), timeout=10)
    finally:
        if honcho.poll() is None:
            honcho.kill()
            honcho.wait()
        for pid in _started_pids(log).values():
            # Each leads a process group of its own (honcho starts a session per process).
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
