"""Load from wrk (-t1 -c8 by default) and the figures it yields, for the benchmark scripts.

* run_wrk() runs wrk with one of the Lua scripts (bench/submit.lua, bench/channels.lua) and
  returns the counts the script prints; wrk() drives submit.lua at a Target.
* Bench.measure() is one figure: a warm-up, a pause, the measured run and the checks on the
  wire; Bench.baselines() measures the bare view and the minimal submit on the server in use.
* chorus_bodies() and chorus_checks() are the survey submit's bodies (the ten-answer mix)
  and its row checks, shared by bench/submit.py and bench/pool.py.
* ratios(), rate_line() and load_json() report them; wrk_parser() and parse_wrk_args() give
  the scripts their common --duration/--warmup options.

Process, environment and report helpers are in bench/harness.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    BENCH,
    WORKERS,
    Checked,
    Json,
    Processes,
    csrf_pair,
    log,
    manage,
    status_text,
)

SUBMIT_LUA = BENCH / "submit.lua"
WRK_THREADS = 1
WRK_CONNECTIONS = 8

# The answers the survey and kiosk submits send: 3 of every 10 are detractors (30 %).
DETRACTOR_SLOTS = (1, 4, 8)
DETRACTOR_NPS = (2, 5, 6)
PROMOTER_NPS = (9, 10, 8, 7, 10, 9, 10)
TEXT_DETRACTOR = "The wait was terrible and the cup was cold."
TEXT_OTHER = "Great coffee and friendly staff, lovely place!"


def answer_mix() -> Iterator[tuple[int, bool, int, str]]:
    """The ten answers the bodies rotate through: (i, detractor?, NPS score, text)."""
    promoters, detractors = iter(PROMOTER_NPS), iter(DETRACTOR_NPS)
    for i in range(10):
        if i in DETRACTOR_SLOTS:
            yield i, True, next(detractors), TEXT_DETRACTOR
        else:
            yield i, False, next(promoters), TEXT_OTHER


BARE = "/bench/bare/"
BARE_TEMPLATE = "/bench/bare-template/"
MINIMAL = "/bench/minimal/"


def run_wrk(
    lua: Path,
    port: int,
    path: str,
    script_args: list[str],
    *,
    seconds: int,
    workdir: Path,
    connections: int = WRK_CONNECTIONS,
) -> Json:
    """wrk -t1 -c<connections> on `path` for `seconds`; returns the "WRKJSON" its script printed."""
    cmd = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        f"http://127.0.0.1:{port}{path}",
        "--",
        *script_args,
    ]
    before = cpu_times()
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 60, check=False, cwd=workdir
    )
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            result = json.loads(line[len("WRKJSON ") :])
            result["cpu"] = cpu_shares(before, cpu_times())
            return result
    raise RuntimeError(f"wrk printed no result ({done.returncode}):\n{done.stderr[-2000:]}")


def cpu_times() -> list[int]:
    """The machine's CPU time so far by kind, from /proc/stat's "cpu" line (user, nice,
    system, idle, iowait, irq, softirq, steal); [] where there is none to read."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return [int(x) for x in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return []


def cpu_shares(before: list[int], after: list[int]) -> Json:
    """How the machine's CPU time went between two cpu_times(): idle and steal in per cent.
    Steal is time the hypervisor gave another guest: a figure run under it is slowed by
    something outside the machine, and its ratio to a base run under less is understated."""
    if len(before) < 8 or len(after) < 8:
        return {}
    spent = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(spent) or 1
    return {
        "idle_pct": round(100 * spent[3] / total, 1),
        "steal_pct": round(100 * spent[7] / total, 1),
    }


@dataclass
class Target:
    """One endpoint under load and what a run of it needs."""

    method: str
    path: str
    bodies: list[str] = field(default_factory=list)
    sessions: Path | None = None
    cookie: str | None = None
    location: str = ""  # a 3xx must point here to count as success
    # Text every 200's body must hold ("!text": must not hold); checked by submit.lua.
    must: list[str] = field(default_factory=list)


def form_target(
    port: int,
    path: str,
    bodies: Callable[[str], list[str]],
    *,
    location: str,
    sessions: Path | None = None,
    cookie: str | None = None,
) -> Target:
    """POST `path` as a browser would after one GET of it (with `cookie`, if any): the CSRF
    cookie it set goes with every request, its form token into every body, `bodies(token)`."""
    csrf_cookie, token = csrf_pair(port, path, cookie)
    return Target(
        "POST", path, bodies(token), sessions=sessions, cookie=csrf_cookie, location=location
    )


def wrk_counts(
    port: int,
    target: Target,
    *,
    seconds: int,
    run_id: str,
    workdir: Path,
    connections: int = WRK_CONNECTIONS,
) -> Json:
    """Load `target` with submit.lua; returns the script's counts as they are."""
    bodies_file = "-"
    if target.bodies:
        bodies_path = workdir / f"{run_id}-bodies.txt"
        bodies_path.write_text("\n".join(target.bodies) + "\n")
        bodies_file = str(bodies_path)
    must_file = "-"
    if target.must:
        must_path = workdir / f"{run_id}-must.txt"
        must_path.write_text("\n".join(target.must) + "\n")
        must_file = str(must_path)
    script_args = [
        target.method,
        target.path,
        str(target.sessions) if target.sessions else "-",
        bodies_file,
        target.cookie or "-",
        run_id,
        str(WRK_THREADS),
        target.location or "-",
        must_file,
    ]
    return run_wrk(
        SUBMIT_LUA,
        port,
        target.path,
        script_args,
        seconds=seconds,
        workdir=workdir,
        connections=connections,
    )


def wrk(port: int, target: Target, *, seconds: int, run_id: str, workdir: Path) -> Json:
    """Load `target` for `seconds` with wrk -t1 -c8; adds what was accepted, and its rate.

    A POST is accepted with a 2xx or a 3xx to its location; a GET only with a 200 whose
    body holds what the target `must`.
    """
    result = wrk_counts(port, target, seconds=seconds, run_id=run_id, workdir=workdir)
    result["method"] = target.method
    result["must"] = len(target.must)
    if target.method == "GET":
        result["accepted"] = result["s2xx"] - result["bad_body"]
    else:
        result["accepted"] = result["s2xx"] + result["s3xx"] - result["bad_location"]
    result["in_flight"] = result["sent"] - result["received"]
    result["rate"] = result["accepted"] / (result["duration_us"] / 1e6)
    return result


def warm_then_measure(
    args: argparse.Namespace,
    shoot: Callable[..., Json],
    target: Any,
    warm_target: Any,
    run_id: str,
    what: str,
    note: str = "",
) -> tuple[Json | None, Json]:
    """`shoot(target, seconds=, run_id=)` for args.warmup s (skipped at 0), then args.duration s.

    The warm-up loads imports, templates and connections in the workers; its run id is
    `warm-<run_id>`. Returns (warm-up result or None, measured result).
    """
    warm = None
    if args.warmup:
        warm = shoot(warm_target, seconds=args.warmup, run_id=f"warm-{run_id}")
        # Let the warm-up's last requests finish before the measured run starts.
        time.sleep(1.0)
    log(f"measuring {what} for {args.duration}s{note}")
    return warm, shoot(target, seconds=args.duration, run_id=run_id)


@dataclass
class Figure(Checked):
    name: str
    db: str
    label: str
    wrk: Json
    counts: Json = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The figures of the same database this one is divided by (ratios()); () is the default:
    # the bare view, the minimal submit and the peer.
    bases: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        return self.wrk["rate"]

    def as_json(self) -> Json:
        return {
            "name": self.name,
            "db": self.db,
            "label": self.label,
            "req_per_s": round(self.rate, 1),
            "ratios": self.wrk.get("ratios", {}),
            "wrk": self.wrk,
            # A kiosk's sample of keys is for its replay check, not for the report.
            "counts": {k: v for k, v in self.counts.items() if k != "sample"},
            "checks": self.checks,
            "notes": self.notes,
        }


def not_accepted(w: Json) -> int:
    """Answers that do not count: any 4xx/5xx, a redirect elsewhere; for a GET any 3xx and a
    200 without what the page must hold."""
    bad = w["s4xx"] + w["s5xx"] + w["other"] + w["bad_location"]
    if w.get("method") == "GET":
        bad += w["s3xx"] + w["bad_body"]
    return bad


def transport_checks(fig: Figure, warm: Json | None) -> None:
    """What every figure must show on the wire: only 2xx/3xx (a GET: only 200s holding the
    page it asked for), no errors, members unique (a POST: a member answers once)."""
    get = fig.wrk.get("method") == "GET"
    if warm is not None:
        # A warm-up that failed (say, members who already answered) warms the wrong path.
        bad = not_accepted(warm)
        fig.check(
            "warm-up answered 200 only" if get else "warm-up answered 2xx/3xx only",
            bad == 0 and not sum(warm["errors"].values()),
            f"{warm['accepted']} accepted, {bad} not, errors={warm['errors']}",
        )
    w = fig.wrk
    bad = not_accepted(w)
    errors = sum(w["errors"].values())
    if get:
        fig.check(
            "every response 200"
            + (" holding the page's form" if w.get("must") else "")
            + ", 0 socket errors",
            bad == 0 and errors == 0 and w["accepted"] > 0,
            f"200={w['s2xx'] - w['bad_body']} without the page's form={w['bad_body']} "
            f"3xx={w['s3xx']} 4xx={w['s4xx']} 5xx={w['s5xx']} errors={w['errors']}",
        )
    else:
        fig.check(
            "0 non-2xx/3xx, 0 socket errors",
            bad == 0 and errors == 0,
            f"4xx={w['s4xx']} 5xx={w['s5xx']} wrong-redirect={w['bad_location']} "
            f"errors={w['errors']}",
        )
    if w["reused_sessions"] and get:
        fig.notes.append(f"{w['reused_sessions']} GETs reused a member's session (harmless)")
    elif w["reused_sessions"]:
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
    """A Chorus submit figure's rows (bench_check's counts of one survey): make bench-submit's
    and make bench-pool's identified survey."""
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


def chorus_bodies(survey: Json, token: str, *, consent: bool = True) -> list[str]:
    """Ten bodies, three of them detractors who tick consent-to-contact (unless `consent` is
    false: an anonymous survey asks for none), each with text."""
    nps, single = survey["nps"]["field"], survey["single_choice"]
    multi, text = survey["multi_choice"], survey["text"]["field"]
    bodies = []
    for i, detractor, score, words in answer_mix():
        data = [
            ("csrfmiddlewaretoken", token),
            ("idempotency_key", "__KEY__"),
            (nps, score),
            (single["field"], single["choices"][i % 3]),
            (multi["field"], multi["choices"][i % 4]),
            (multi["field"], multi["choices"][(i + 1) % 4]),
            (text, words),
        ]
        if detractor and consent:
            data.append(("consent_to_contact", "on"))
        bodies.append(urllib.parse.urlencode(data))
    return bodies


def minimal_bodies(token: str) -> list[str]:
    return [
        urllib.parse.urlencode(
            [("csrfmiddlewaretoken", token), ("key", "__KEY__"), ("score", str(i))]
        )
        for i in range(10)
    ]


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

        def shoot(t: Target, *, seconds: int, run_id: str) -> Json:
            return wrk(port, t, seconds=seconds, run_id=run_id, workdir=self.workdir)

        warm, result = warm_then_measure(
            self.args, shoot, target, warmup or target, f"{db}-{name}", f"{db} {label}"
        )
        fig = Figure(name=name, db=db, label=label, wrk=result)
        transport_checks(fig, warm)
        self.figures.append(fig)
        # In-flight requests at wrk's stop still finish server-side; let them commit.
        time.sleep(1.0)
        return fig

    def baselines(self, port: int, db: str, env: dict[str, str], *, minimal: bool = True) -> None:
        """The bare view (the framework's ceiling) and the minimal submit (the floor of a write)
        on the server at `port`, whose environment is `env`."""
        self.measure(port, Target("GET", BARE), "bare", db, "bare view")
        if not minimal:
            return
        minimal = form_target(port, MINIMAL, minimal_bodies, location="/bench/")
        fig = self.measure(port, minimal, "minimal", db, "minimal submit")
        # Keys start with the run id; the warm-up's rows carry another one.
        row_checks(fig, manage("bench_check", "--key-prefix", f"{db}-minimal-", env=env))


def wrk_parser(doc: str, unit: str) -> argparse.ArgumentParser:
    """A script's options, starting with how long wrk runs per `unit` (figure, page)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    per = f"per {unit}"
    parser.add_argument("--duration", type=int, default=10, help=f"seconds of wrk {per} (>= 10)")
    parser.add_argument("--warmup", type=int, default=3, help=f"seconds of warm-up {per}")
    return parser


def parse_wrk_args(
    parser: argparse.ArgumentParser,
    wrk_needed: Callable[[argparse.Namespace], bool] = lambda args: True,
) -> argparse.Namespace:
    """Parse the options; stop if wrk is needed and missing; say when a run is too short."""
    args = parser.parse_args()
    if args.duration < 10:
        log("note: under 10 s per endpoint is a smoke test, not a figure (BENCH.md)")
    if wrk_needed(args) and shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    return args


def drain(
    counts: Callable[[], Json],
    done: Callable[[Json], bool],
    worker: subprocess.Popen,
    timeout: float,
) -> tuple[Json, float]:
    """Poll `counts()` every 2 s until `done`, the worker dies or `timeout` s pass.

    Returns the last counts and the seconds it waited.
    """
    started = time.monotonic()
    deadline = started + timeout
    latest = counts()
    while time.monotonic() < deadline and not done(latest):
        if worker.poll() is not None:
            break
        time.sleep(2)
        latest = counts()
    return latest, time.monotonic() - started


# --- report --------------------------------------------------------------------------------


def ratios(figures: list[Figure]) -> None:
    """Each figure against the baselines of its database, all taken in this run.

    Chorus figures get all three; a baseline only the ones before it (minimal vs bare,
    peer vs bare and minimal), since "bare view = 3.9x minimal" says nothing new. A figure
    with its own `bases` (a page against the bare template) gets those.
    """
    bases = ("bare", "minimal", "peer")
    for fig in figures:
        same_db = {f.name: f for f in figures if f.db == fig.db}
        wanted = bases[: bases.index(fig.name)] if fig.name in bases else bases
        wanted = fig.bases or wanted
        fig.wrk["ratios"] = {
            base: round(fig.rate / same_db[base].rate, 3)
            for base in wanted
            if base in same_db and same_db[base].rate > 0
        }


def ratio_text(fig: Figure, bases: tuple[str, ...]) -> str:
    r = fig.wrk.get("ratios", {})
    return "  ".join(f"{r[b]:.2f}x {b}" for b in bases if b in r)


def rate_line(head: str, w: Json, ratio: str, width: int, checks: list[Json]) -> str:
    """`<head> <req/s> p50 p99 <ratio> <checks>`: one summary line of a wrk figure."""
    p50, p99 = (w["latency_us"][p] / 1000 for p in ("p50", "p99"))
    steal = w.get("cpu", {}).get("steal_pct")
    stolen = f"steal {steal:4.1f}%" if steal is not None else ""
    return (
        f"{head} {w['rate']:8.1f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
        f"{ratio:<{width}} {stolen:<11} {status_text(checks)}"
    )


def load_json(args: argparse.Namespace, connections: int = WRK_CONNECTIONS, **extra: Any) -> Json:
    """The report's "load": how wrk and gunicorn ran, then what the script adds."""
    return {
        "tool": "wrk",
        "threads": WRK_THREADS,
        "connections": connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "gunicorn_workers": WORKERS,
        **extra,
    }
