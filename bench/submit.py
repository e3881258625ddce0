"""`make bench-submit`: the survey-answering hot path per second, beside its baselines.

One scripted run measures, through gunicorn (-w 2 sync workers on 127.0.0.1) and wrk
(-t1 -c8), on PostgreSQL and on SQLite:

* bare view        - a short string through Chorus's full middleware stack;
* minimal submit   - a small form validated and one row INSERTed in a transaction;
* survey submit    - POST /s/<public_id>/ by a different signed-in member each time
                     (CSRF, validation, response + answers + participation + ledger, and for
                     the 30 % detractors a case + consent + outbox row, one transaction);
                     on PostgreSQL once with tasks run eagerly (no Redis) and once with
                     Redis and a real Celery worker;
* kiosk submit     - POST /k/<device_token>/responses/ (JSON) to 8 kiosks of one store, the
                     same answers, a unique idempotency key each;
* respondent page  - GET /s/<public_id>/ as a different signed-in member each time and as a
                     visitor, beside the bare template page;
* peer submit      - django-survey-and-report's POST /survey/<id>/ with the equivalent survey,
                     installed into bench/.peer-venv;
* queries          - after the wrk figures, the SQL queries (and savepoints) of one survey
                     submit, kiosk submit and respondent GET, counted in-process.

Every figure comes with correctness checks (rows written == requests accepted, no
non-2xx/3xx, no duplicates, ledger sum == responses x points, cases == detractors, every
page the form), one summary line each, and JSON in bench/results/submit-<timestamp>.json.
See bench/README.md.

The script imports no Django: seeding and counting run as subprocesses under the settings
and the virtualenv of the app being measured, so PostgreSQL and SQLite never share a process.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shutil
import sqlite3
import sys
import time
import urllib.parse
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    BENCH,
    RESULTS,
    SECRET_KEY,
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
    manage,
    migrate,
    pg_recreate,
    pg_settings,
    pg_url,
    print_checks,
    redis_server,
    run,
    server,
    sqlite_fresh,
)
from bench.hotpath import (  # noqa: E402
    kiosk_checks,
    kiosk_counts,
    kiosk_figure,
    page_figures,
    queries,
    queries_line,
    summary_line,
)
from bench.kiosk import KIOSK_RATE  # noqa: E402
from bench.load import (  # noqa: E402
    BARE,
    DETRACTOR_SLOTS,
    Bench,
    Target,
    answer_mix,
    chorus_bodies,
    chorus_checks,
    drain,
    form_target,
    load_json,
    parse_wrk_args,
    ratios,
    row_checks,
    wrk_parser,
)

PEER_VENV = BENCH / ".peer-venv"
PEER_SRC = BENCH / "peer"
PEER_PACKAGE = "django-survey-and-report==1.5.0"

# The databases are named after --db-name: PostgreSQL <name> and <name>_peer, SQLite
# bench/results/<name>.sqlite3 and <name>_peer.sqlite3 (chorus-bench.sqlite3 and
# peer-bench.sqlite3 for the default name).
DB_NAME = "chorus_bench"

# What --figures names; the default is all of them.
FIGURES = ("bare", "minimal", "survey", "redis", "kiosk", "get", "queries", "peer")
# The figures measured on the eager (no Redis) gunicorn; the bare view runs with any of them.
EAGER = ("minimal", "survey", "kiosk", "get")


# --- request bodies ------------------------------------------------------------------------


def peer_bodies(survey: Json, token: str) -> list[str]:
    """The same ten answers in django-survey-and-report's field names and values."""
    q_nps, q_single, q_multi, q_text = (survey[f"q{n}"] for n in range(1, 5))
    return [
        urllib.parse.urlencode(
            [
                ("csrfmiddlewaretoken", token),
                (q_nps["field"], q_nps["choices"][score]),
                (q_single["field"], q_single["choices"][i % 3]),
                (q_multi["field"], q_multi["choices"][i % 4]),
                (q_multi["field"], q_multi["choices"][(i + 1) % 4]),
                (q_text["field"], words),
            ]
        )
        for i, _detractor, score, words in answer_mix()
    ]


# --- the run -------------------------------------------------------------------------------


class Submit(Bench):
    """The figures of one database: Chorus beside its baselines, the queries, then the peer."""

    def __init__(self, args: argparse.Namespace, procs: Processes, workdir: Path) -> None:
        super().__init__(args, procs, workdir)
        self.queries: dict[str, list[Json]] = {}

    # -- Chorus ---------------------------------------------------------------------------

    def chorus(self, db: str, database_url: str, *, with_redis: bool) -> None:
        figures = self.args.figures
        env = {**chorus_env(database_url), "KIOSK_RATE_PER_MINUTE": KIOSK_RATE}
        log(
            f"{db}: migrating and seeding {self.args.members} members, "
            f"{self.args.history} past answers"
        )
        migrate(env)
        labels = ["warm", "eager"] if "survey" in figures else []
        labels += ["warm-redis", "redis"] if with_redis else []
        labels += ["page"] if "get" in figures else []
        kiosk_labels = ["warm-kiosk", "kiosk"] if "kiosk" in figures else []
        kiosk_labels += ["queries"] if "queries" in figures else []
        sessions = self.workdir / f"chorus-{db}-sessions.txt"
        seed = manage(
            "bench_seed",
            "--members",
            str(self.args.members),
            "--surveys",
            ",".join(labels),
            "--kiosk-surveys",
            ",".join(kiosk_labels),
            "--kiosks",
            str(self.args.kiosks),
            "--sessions-out",
            str(sessions),
            "--history",
            str(self.args.history),
            env=env,
        )
        surveys = seed["surveys"]

        def check(label: str) -> Json:
            public_id = surveys[label]["public_id"]
            # "--opt=value": a public id may start with "-", which argparse takes for an option.
            return manage("bench_check", "--key-prefix=", f"--survey={public_id}", env=env)

        def submit_targets(port: int, label: str) -> tuple[Target, Target]:
            def target(survey: Json) -> Target:
                path = f"/s/{survey['public_id']}/"
                bodies = partial(chorus_bodies, survey)
                return form_target(port, path, bodies, location=f"{path}thanks/", sessions=sessions)

            # Warm-up answers its own survey, so the measured one starts empty and
            # the same members can answer both.
            warm = {"eager": "warm", "redis": "warm-redis"}[label]
            return target(surveys[label]), target(surveys[warm])

        if any(f in figures for f in EAGER):
            port = free_port()
            with server(self.procs, f"gunicorn-chorus-{db}", env, port, BARE):
                self.baselines(port, db, env, minimal="minimal" in figures)
                if "survey" in figures:
                    measured, warm = submit_targets(port, "eager")
                    fig = self.measure(
                        port, measured, "chorus", db, "Chorus submit (no Redis: eager tasks)", warm
                    )
                    chorus_checks(fig, check("eager"))
                    fig.notes.append(
                        "REDIS_URL unset: the sentiment task (every submission has text) and "
                        "the follow-up send (detractors) run in the web request after commit"
                    )
                if "kiosk" in figures:
                    fig = kiosk_figure(self, port, db, surveys["kiosk"], surveys["warm-kiosk"])
                    # In-flight requests at wrk's stop still finish server-side.
                    time.sleep(1.0)
                    kiosk_checks(fig, kiosk_counts(env, surveys["kiosk"]))
                    fig.notes.append(
                        f"KIOSK_RATE_PER_MINUTE={KIOSK_RATE} (production: 30 per kiosk); the "
                        "rate counter is still taken, in each worker's local-memory cache"
                    )
                if "get" in figures:
                    page_figures(self, port, db, surveys["page"], str(sessions))

        if with_redis:
            self.chorus_redis(db, database_url, check, submit_targets)
        if "queries" in figures:
            # In-process, with gunicorn stopped; eager tasks, as in the first server.
            self.queries[db] = queries(env, surveys["queries"])

    def chorus_redis(
        self,
        db: str,
        database_url: str,
        check: Callable[[str], Json],
        submit_targets: Callable[[int, str], tuple[Target, Target]],
    ) -> None:
        """The production shape: tasks go to Redis, a Celery worker runs them beside gunicorn."""
        with redis_server(self.procs) as redis_url:
            env = chorus_env(database_url, redis_url)
            with celery_worker(self.procs, "celery-worker", env) as worker:
                port = free_port()
                with server(self.procs, f"gunicorn-chorus-{db}-redis", env, port, BARE):
                    measured, warm = submit_targets(port, "redis")
                    fig = self.measure(
                        port, measured, "chorus-redis", db, "Chorus submit (Redis + worker)", warm
                    )
                # The worker owns sentiment and email now: wait (bounded) until it drains.
                counts, drained = drain(
                    lambda: check("redis"),
                    lambda c: c["analysed"] >= c["responses"] and c["outbox_sent"] >= c["outbox"],
                    worker,
                    self.args.drain_timeout,
                )
                chorus_checks(fig, counts)
                fig.notes.append(
                    f"a Celery worker (--pool=solo) shared the 2 cores during the run; it "
                    f"drained the sentiment and follow-up tasks {drained:.0f}s after wrk stopped"
                )

    # -- the peer ---------------------------------------------------------------------------

    def peer(self, db: str) -> None:
        python = peer_python()
        project = self.workdir / "peer"
        shutil.copytree(PEER_SRC, project / "peerproject", dirs_exist_ok=True)
        if db == "postgresql":
            name = f"{self.args.db_name}_peer"
            pg_recreate(name)
            db_env = {"PEER_DB": "postgres", "PEER_DB_NAME": name}
        else:
            path = sqlite_path(self.args.db_name, peer=True)
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

        def peer_script(script: str, *argv: str) -> Json:
            cmd = [python, str(project / "peerproject" / script), *argv]
            return last_json_line(run(cmd, env=env, cwd=project))

        sessions = self.workdir / f"peer-{db}-sessions.txt"
        log(f"{db}: migrating and seeding the peer")
        seed = peer_script(
            "seed.py",
            "--members",
            str(self.args.members),
            "--surveys",
            "warm,run",
            "--sessions-out",
            str(sessions),
        )
        # A GET needs a signed-in user (need_logged_user); the last member never posts.
        viewer = sessions.read_text().split()[-1]

        port = free_port()
        first = seed["surveys"]["warm"]["survey_id"]
        with server(
            self.procs,
            f"gunicorn-peer-{db}",
            env,
            port,
            f"/survey/{first}/",
            gunicorn=PEER_VENV / "bin" / "gunicorn",
            app="peerproject.wsgi:application",
            chdir=project,
        ):

            def target(survey: Json) -> Target:
                path = f"/survey/{survey['survey_id']}/"
                bodies = partial(peer_bodies, survey)
                location = "/survey/confirm/"
                return form_target(
                    port, path, bodies, location=location, sessions=sessions, cookie=viewer
                )

            measured, warm = target(seed["surveys"]["run"]), target(seed["surveys"]["warm"])
            fig = self.measure(port, measured, "peer", db, "django-survey-and-report submit", warm)
        counts = peer_script("check.py", "--survey", str(seed["surveys"]["run"]["survey_id"]))
        row_checks(fig, counts, answers_per_response=4)
        fig.notes.append(
            "signed-in users (need_logged_user), one response each; no points, cases or "
            "emails: the app has none"
        )


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


def sqlite_path(name: str, *, peer: bool = False) -> Path:
    if name == DB_NAME:
        return RESULTS / ("peer-bench.sqlite3" if peer else "chorus-bench.sqlite3")
    return RESULTS / f"{name}{'_peer' if peer else ''}.sqlite3"


def parse_figures(args: argparse.Namespace) -> None:
    """--figures as a set, less --no-peer / --no-redis; the bare view with any wrk figure."""
    names = {f.strip() for f in args.figures.split(",") if f.strip()}
    if "all" in names:
        names = set(FIGURES)
    unknown = names - set(FIGURES)
    if unknown:
        raise SystemExit(f"--figures: unknown {sorted(unknown)}; choose from {','.join(FIGURES)}")
    if args.no_peer:
        names.discard("peer")
    if args.no_redis:
        names.discard("redis")
    if names & set(EAGER):
        names.add("bare")
    args.figures = names


def main() -> int:
    parser = wrk_parser(__doc__, "figure")
    parser.add_argument("--members", type=int, default=20000, help="signed-in members seeded")
    parser.add_argument("--drain-timeout", type=int, default=120, help="max wait for the worker")
    parser.add_argument("--db", default="postgresql,sqlite", help="postgresql,sqlite")
    parser.add_argument(
        "--figures",
        default="all",
        help=f"comma-separated, of {','.join(FIGURES)} (default all); the bare view runs "
        "with any of minimal, survey, kiosk, get (every ratio needs it)",
    )
    parser.add_argument("--kiosks", type=int, default=8, help="kiosks the kiosk figure posts to")
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="answers already stored (to a survey of their own) before anything is measured",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip django-survey-and-report")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis + worker figure")
    parser.add_argument(
        "--db-name",
        default=DB_NAME,
        help=f"databases to drop and recreate: PostgreSQL <name> and <name>_peer (default "
        f"{DB_NAME}), SQLite files after it; another name lets two runs not drop each other's",
    )
    args = parse_wrk_args(parser)
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", args.db_name):
        raise SystemExit("--db-name: lower-case letters, digits and _ only")
    if shutil.which("redis-server") is None:
        args.no_redis = True
        log("redis-server not found: skipping the Redis + worker figure")
    parse_figures(args)

    bench_run = Run("submit")
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    chorus = bool(args.figures - {"peer"})
    with bench_run.workdir() as workdir:
        bench = Submit(args, bench_run.procs, workdir)
        if "postgresql" in dbs:
            pg_recreate(args.db_name)
            bench.context["postgresql"] = pg_settings(args.db_name)
            if chorus:
                bench.chorus("postgresql", pg_url(args.db_name), with_redis="redis" in args.figures)
            if "peer" in args.figures:
                bench.peer("postgresql")
        if "sqlite" in dbs:
            path = sqlite_path(args.db_name)
            sqlite_fresh(path)
            # The same interpreter (and so the same SQLite library) runs gunicorn.
            bench.context["sqlite"] = {
                "sqlite_version": sqlite3.sqlite_version,
                "pragmas": "journal_mode=WAL, synchronous=NORMAL, IMMEDIATE transactions",
            }
            if chorus:
                bench.chorus("sqlite", f"sqlite:///{path}", with_redis=False)
            if "peer" in args.figures:
                bench.peer("sqlite")
    figures = bench.figures
    ratios(figures)
    print()
    for fig in figures:
        print(summary_line(fig))
        print_checks(fig.checks, fig.notes)
    for db, entries in bench.queries.items():
        for entry in entries:
            print(queries_line(db, entry))
            print_checks([c for c in entry["checks"] if not c["ok"]])
    ok = all(f.ok for f in figures) and all(
        c["ok"] for entries in bench.queries.values() for e in entries for c in e["checks"]
    )
    report = {
        **bench_run.report(),
        "host": host("django", "gunicorn", peer=PEER_PACKAGE, databases=bench.context),
        "load": load_json(
            args,
            members=args.members,
            detractor_share=len(DETRACTOR_SLOTS) / 10,
            figures=sorted(args.figures),
            kiosks=args.kiosks,
            history=args.history,
            kiosk_rate_per_minute=int(KIOSK_RATE),
        ),
        "figures": [f.as_json() for f in figures],
        "queries": bench.queries,
        "ok": ok,
    }
    bench_run.save(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
