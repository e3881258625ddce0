"""The answering hot path per request, in-process: where `make bench-submit`'s time goes.

`bench/submit_django.py` seeds PostgreSQL (its own database, --db-name) as bench/submit.py
does, then, in one Python process under bench.baseline.settings (eager tasks, no Redis),
calls Django's WSGI handler directly, as gunicorn does (CSRF enforced, full middleware),
for each figure in turn: the bare view, the bare template page, the survey submit (a
different signed-in member each time, 30 % detractors with consent), the kiosk JSON submit
(8 kiosks), and the respondent GET as a signed-in member and as a visitor. For each it
prints the wall time and the process's own CPU time per request (CPU leaves out the wait
on PostgreSQL, so it holds up better than wall time on a shared machine), the CPU time the
PostgreSQL backend serving it spent per request (read from /proc: the server runs on this
machine), and the ratio to the bare template page. With --profile it runs each figure again
under cProfile, prints the Python function calls per request (the same from run to run,
so a before/after of a small change shows where the timings' spread would hide it) and
writes bench/results/submit-django-<stamp>-<figure>.pstats (read them with
`python -m pstats`).

No wrk, no gunicorn: this measures the app's own cost per request, for before/after
comparisons of one change; the throughput figures are bench/submit.py's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIGURES = ("bare", "bare-template", "submit", "kiosk", "get-member", "get-visitor")
DB_NAME = "chorus_submit_django"
TEXT_DETRACTOR = "The wait was terrible and the cup was cold."
TEXT_OTHER = "Great coffee and friendly staff, lovely place!"
DETRACTOR_SLOTS = (1, 4, 8)


def drive(args: argparse.Namespace) -> int:
    """Seed, then measure in a subprocess under the app's settings; report."""
    from bench.harness import Run, chorus_env, host, log, migrate, pg_recreate, pg_url
    from bench.kiosk import KIOSK_RATE

    bench_run = Run("submit-django", logs=False)
    env = {**chorus_env(pg_url(args.db_name)), "KIOSK_RATE_PER_MINUTE": KIOSK_RATE}
    env["ALLOWED_HOSTS"] = "127.0.0.1"
    pg_recreate(args.db_name)
    log(f"postgresql: migrating and seeding {args.members} members, {args.history} past answers")
    migrate(env)
    with tempfile.TemporaryDirectory(prefix="bench-submit-django-") as tmp:
        result = _seed_and_measure(args, env, Path(tmp), bench_run)
    print()
    for fig in result["figures"]:
        ratio = fig.get("ratio_cpu_bare_template")
        print(
            f"in-process postgresql {fig['name']:14s} {fig['wall_ms']:7.3f} ms wall "
            f"{fig['cpu_ms']:7.3f} ms CPU per request"
            + (f" (+{fig['db_cpu_ms']:6.3f} ms database CPU)" if "db_cpu_ms" in fig else "")
            + (f"  {ratio:.3f}x bare template (CPU)" if ratio else "")
            + (f"  {fig['python_calls']} Python calls" if fig.get("python_calls") else "")
            + (f"  profile {fig['pstats']}" if fig.get("pstats") else "")
        )
    report = {
        **bench_run.report(),
        "host": host("django"),
        "load": {
            "requests_per_figure": args.requests,
            "members": args.members,
            "history": args.history,
        },
        **result,
    }
    out = bench_run.save(report)
    print(f"\nwrote {out.relative_to(out.parents[2])} ({report['elapsed_s']} s)")
    return 0


def _seed_and_measure(args: argparse.Namespace, env: dict, tmp: Path, bench_run) -> dict:
    from bench.harness import PYTHON, RESULTS, last_json_line, log, manage, run

    sessions = tmp / "sessions.txt"
    seed = manage(
        "bench_seed",
        "--members",
        str(args.members),
        "--surveys",
        "run,page",
        "--kiosk-surveys",
        "kiosk",
        "--kiosks",
        "8",
        "--sessions-out",
        str(sessions),
        "--history",
        str(args.history),
        env=env,
    )
    seed_file = sessions.with_name("seed.json")
    seed_file.write_text(json.dumps(seed["surveys"]))
    cmd = [PYTHON, __file__, "--measure", str(seed_file), "--sessions", str(sessions)]
    cmd += ["--requests", str(args.requests), "--figures", ",".join(args.figures)]
    if args.profile:
        cmd += ["--profile-prefix", str(RESULTS / f"{bench_run.name}-{bench_run.stamp}")]
    log(f"measuring {', '.join(args.figures)} in-process, {args.requests} requests each")
    return last_json_line(run(cmd, env=env, timeout=1800))


# --- in the app's process ------------------------------------------------------------------


class Client:
    """Requests straight into the WSGI handler, as gunicorn makes them."""

    def __init__(self, seed: dict, sessions: list[str]) -> None:
        import io

        from django.core.wsgi import get_wsgi_application

        self.io = io
        self.app = get_wsgi_application()
        self.seed = seed
        self.sessions = sessions
        self.member = 0
        self.i = 0
        self.csrf_cookie, self.csrf_token = self.csrf_pair()

    def call(self, method: str, path: str, body: bytes = b"", cookies: str = "", ctype: str = ""):
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": cookies,
            "HTTP_ACCEPT_ENCODING": "gzip",
            "CONTENT_TYPE": ctype or "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.url_scheme": "http",
            "wsgi.input": self.io.BytesIO(body),
            "wsgi.errors": sys.stderr,
        }
        answer: dict = {}

        def start(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers

        response = self.app(environ, start)
        content = b"".join(response)
        if hasattr(response, "close"):
            response.close()
        return int(answer["status"][:3]), answer["headers"], content

    def csrf_pair(self) -> tuple[str, str]:
        import re
        from http.cookies import SimpleCookie

        path = f"/s/{self.seed['page']['public_id']}/"
        _status, headers, body = self.call("GET", path)
        if dict((k.lower(), v) for k, v in headers).get("content-encoding") == "gzip":
            import gzip

            body = gzip.decompress(body)
        jar = SimpleCookie()
        for name, value in headers:
            if name.lower() == "set-cookie":
                jar.load(value)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        return jar["csrftoken"].value, token.group(1).decode()

    def next_session(self) -> str:
        self.member += 1
        if self.member > len(self.sessions):
            raise SystemExit("out of members: seed more (--members)")
        return self.sessions[self.member - 1]

    def survey_body(self, i: int) -> bytes:
        import secrets
        import urllib.parse

        s = self.seed["run"]
        detractor = i % 10 in DETRACTOR_SLOTS
        data = [
            ("csrfmiddlewaretoken", self.csrf_token),
            ("idempotency_key", secrets.token_hex(16)),
            (s["nps"]["field"], 3 if detractor else 9),
            (s["single_choice"]["field"], s["single_choice"]["choices"][i % 3]),
            (s["multi_choice"]["field"], s["multi_choice"]["choices"][i % 4]),
            (s["multi_choice"]["field"], s["multi_choice"]["choices"][(i + 1) % 4]),
            (s["text"]["field"], TEXT_DETRACTOR if detractor else TEXT_OTHER),
        ]
        if detractor:
            data.append(("consent_to_contact", "on"))
        return urllib.parse.urlencode(data).encode()

    def kiosk_body(self, i: int) -> bytes:
        import secrets

        k = self.seed["kiosk"]
        detractor = i % 10 in DETRACTOR_SLOTS
        answers = {
            k["nps"]["field"]: 3 if detractor else 9,
            k["single_choice"]["field"]: k["single_choice"]["choices"][i % 3],
            k["multi_choice"]["field"]: [
                k["multi_choice"]["choices"][i % 4],
                k["multi_choice"]["choices"][(i + 1) % 4],
            ],
            k["text"]["field"]: TEXT_DETRACTOR if detractor else TEXT_OTHER,
        }
        payload = {"idempotency_key": secrets.token_hex(16), "language": "en", "answers": answers}
        return json.dumps(payload).encode()

    def one(self, figure: str) -> None:
        i, self.i = self.i, self.i + 1
        page = f"/s/{self.seed['page']['public_id']}/"
        if figure == "bare":
            status, *_ = self.call("GET", "/bench/bare/")
        elif figure == "bare-template":
            status, *_ = self.call("GET", "/bench/bare-template/")
        elif figure == "submit":
            cookies = f"csrftoken={self.csrf_cookie}; sessionid={self.next_session()}"
            status, *_ = self.call(
                "POST", f"/s/{self.seed['run']['public_id']}/", self.survey_body(i), cookies
            )
        elif figure == "kiosk":
            tokens = self.seed["kiosk"]["device_tokens"]
            path = f"/k/{tokens[i % len(tokens)]}/responses/"
            status, *_ = self.call("POST", path, self.kiosk_body(i), "", "application/json")
        elif figure == "get-member":
            # The last members never answer the survey page: one signed in per request.
            cookie = f"sessionid={self.sessions[-1 - (i % 500)]}"
            status, *_ = self.call("GET", page, b"", cookie)
        else:
            status, *_ = self.call("GET", page)
        expected = {"submit": (302,), "kiosk": (200, 201)}.get(figure, (200,))
        if status not in expected:
            raise SystemExit(f"{figure}: answered {status}")


def _database_cpu() -> float | None:
    """CPU seconds used so far by the PostgreSQL backend serving this process, read from
    /proc (the server runs on this machine; None where it cannot be read). The database's
    share of a request, which the process's own CPU time leaves out."""
    import os

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime: the 14th and 15th fields, counted after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(args: argparse.Namespace) -> int:
    import cProfile
    import pstats
    import time

    import django

    django.setup()
    seed = json.loads(Path(args.measure).read_text())
    sessions = [
        line.strip() for line in Path(args.sessions).read_text().splitlines() if line.strip()
    ]
    # A line is "sessionid=<key>", the cookie as a browser sends it: the keys.
    client = Client(seed, [line.split("=", 1)[-1] for line in sessions])
    figures = []
    for figure in args.figures.split(","):
        for _ in range(20):  # warm: imports, templates, compiled surveys, prepared queries
            client.one(figure)
        wall, cpu, db_cpu = time.perf_counter(), time.process_time(), _database_cpu()
        for _ in range(args.requests):
            client.one(figure)
        entry = {
            "name": figure,
            "wall_ms": round((time.perf_counter() - wall) * 1000 / args.requests, 3),
            "cpu_ms": round((time.process_time() - cpu) * 1000 / args.requests, 3),
        }
        db_after = _database_cpu()
        if db_cpu is not None and db_after is not None:
            entry["db_cpu_ms"] = round((db_after - db_cpu) * 1000 / args.requests, 3)
        if args.profile_prefix:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.requests):
                client.one(figure)
            profile.disable()
            entry["pstats"] = f"{args.profile_prefix}-{figure}.pstats"
            profile.dump_stats(entry["pstats"])
            # Function calls per request: the same from one run to the next on a noisy
            # machine, where a change of a few per cent is lost in the timings' spread.
            calls = pstats.Stats(profile).total_calls
            entry["python_calls"] = round(calls / args.requests)
        figures.append(entry)
    base = next((f["cpu_ms"] for f in figures if f["name"] == "bare-template"), None)
    for entry in figures:
        if base and entry["name"] not in ("bare", "bare-template"):
            entry["ratio_cpu_bare_template"] = round(base / entry["cpu_ms"], 3)
    print(json.dumps({"figures": figures, "members_used": client.member}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-name", default=DB_NAME, help="PostgreSQL database to recreate")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per figure")
    parser.add_argument("--members", type=int, default=3000, help="signed-in members seeded")
    parser.add_argument("--figures", default=",".join(FIGURES), help=",".join(FIGURES))
    parser.add_argument(
        "--history", type=int, default=0, help="answers stored before the run (bench_seed)"
    )
    parser.add_argument("--profile", action="store_true", help="also write cProfile stats")
    # Internal: the measuring subprocess.
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--sessions", help=argparse.SUPPRESS)
    parser.add_argument("--profile-prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args)
    args.figures = [f.strip() for f in args.figures.split(",") if f.strip()]
    unknown = set(args.figures) - set(FIGURES)
    if unknown:
        raise SystemExit(f"--figures: unknown {sorted(unknown)}")
    needed = 20 + args.requests * (2 if args.profile else 1) + 500
    if "submit" in args.figures and args.members < needed:
        raise SystemExit(f"--members: the submit figure needs at least {needed}")
    return drive(args)


if __name__ == "__main__":
    sys.exit(main())
