"""`make bench-rewards`: what rewards cost, each figure beside a plain baseline in one run.

On PostgreSQL (database chorus_bench_rewards) and on SQLite, one scripted run measures:

* balance    - rewards.selectors.member_balance for a member with 10,000 ledger entries,
               in-process, per-call median over interleaved rounds, beside a plain
               `SELECT SUM(points) … WHERE member_id = %s` over a cursor;
* expiry     - rewards.services.points_expire over 100,000 members (2-4 entries each, 80 %
               inactive for two years under a 12-month policy), beside one plain
               INSERT … SELECT writing the same entries; then points_expire again (must
               write nothing);
* pages      - through gunicorn (-w 2 sync) and wrk (-t1 -c8): the portal points page and
               the rewards catalogue of that member, beside the bare template page and the
               bare view (bench.baseline, as make bench-submit measures them);
* redeem     - POST of the portal's redeem form, each request a different signed-in member
               (distinct members, an unlimited-stock reward with manual approval: points held,
               outbox email), beside the survey submit measured as make bench-submit does.

Every figure has its correctness checks (values equal, rows written == requests accepted,
no duplicates, holds == redemptions, no balance below zero, expiry rows identical to the
baseline's and idempotent). One summary line per figure, bench/results/rewards-<ts>.json and
rewards-<ts>.md. See bench/README.md. No Django here: seeding, the in-process figures and
the checks run in bench/rewards_django.py as a subprocess.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    BENCH,
    PG_DSN,
    PYTHON,
    RESULTS,
    Checked,
    Json,
    Run,
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
    run,
    server,
    sqlite_fresh,
    status_text,
)
from bench.load import (  # noqa: E402
    BARE,
    BARE_TEMPLATE,
    Bench,
    Figure,
    Target,
    chorus_bodies,
    chorus_checks,
    form_target,
    load_json,
    parse_wrk_args,
    rate_line,
    ratios,
    row_checks,
    wrk_parser,
)

DJANGO_SIDE = BENCH / "rewards_django.py"
DB_NAME = "chorus_bench_rewards"
FIGURES = ("balance", "expiry", "pages", "redeem")
# A fixed one-time token is enough: every request is another member, and the request key
# is member + reward + token.
REDEEM_TOKEN = "0" * 31 + "1"


def django_side(env: dict[str, str], *argv: str, timeout: float = 600) -> Json:
    return last_json_line(run([PYTHON, str(DJANGO_SIDE), *argv], env=env, timeout=timeout))


class InProcess(Checked):
    """An in-process figure: Chorus's time beside the plain baseline's, and their ratio."""

    def __init__(self, name: str, db: str, label: str, chorus_s: float, base_s: float) -> None:
        self.name, self.db, self.label = name, db, label
        self.chorus_s, self.base_s = chorus_s, base_s
        self.checks: list[Json] = []
        self.notes: list[str] = []
        self.data: Json = {}

    @property
    def ratio(self) -> float:
        return self.chorus_s / self.base_s if self.base_s else float("nan")

    def line(self) -> str:
        unit, scale = ("µs", 1e6) if self.chorus_s < 0.01 else ("s", 1)
        return (
            f"{self.name:<8} {self.db:<10} {self.label:<44} "
            f"Chorus {self.chorus_s * scale:9.1f} {unit}"
            f"  plain SQL {self.base_s * scale:9.1f} {unit}  {self.ratio:6.2f}x plain  "
            f"{status_text(self.checks)}"
        )

    def as_json(self) -> Json:
        return {
            "name": self.name,
            "db": self.db,
            "label": self.label,
            "chorus_s": self.chorus_s,
            "baseline_s": self.base_s,
            "ratio": round(self.ratio, 3),
            "data": self.data,
            "checks": self.checks,
            "notes": self.notes,
        }


class Rewards(Bench):
    def __init__(self, args, procs, workdir) -> None:
        super().__init__(args, procs, workdir)
        self.inprocess: list[InProcess] = []

    def database(self, db: str, database_url: str) -> None:
        figures = self.args.figures
        env = chorus_env(database_url)
        log(f"{db}: migrating")
        migrate(env, timeout=600)
        survey_sessions = self.workdir / f"{db}-survey-sessions.txt"
        surveys: Json = {}
        if "redeem" in figures:
            log(f"{db}: seeding the survey submit's {self.args.survey_members} members")
            surveys = manage(
                "bench_seed",
                "--members",
                str(self.args.survey_members),
                "--surveys",
                "warm,eager",
                "--sessions-out",
                str(survey_sessions),
                env=env,
                timeout=600,
            )["surveys"]
        sessions = self.workdir / f"{db}-redeem-sessions.txt"
        heavy_session = self.workdir / f"{db}-heavy-session.txt"
        log(f"{db}: seeding rewards ({self.args.expiry_members} expiry members)")
        seed = django_side(
            env,
            "seed",
            "--redeemers",
            str(self.args.redeemers),
            "--expiry-members",
            str(self.args.expiry_members if "expiry" in figures else 0),
            "--sessions-out",
            str(sessions),
            "--heavy-session-out",
            str(heavy_session),
        )
        self.context.setdefault("seed", {})[db] = seed
        log(f"{db}: seeded in {seed['seconds']} s")
        if "balance" in figures:
            self.balance(db, env, seed)
        if "expiry" in figures:
            self.expiry(db, env, seed)
        if "pages" in figures or "redeem" in figures:
            port = free_port()
            with server(self.procs, f"gunicorn-{db}", env, port, BARE):
                self.measure(port, Target("GET", BARE), "bare", db, "bare view")
                bare = Target("GET", BARE_TEMPLATE, must=["<p>A bare template page"])
                self.measure(port, bare, "bare-template", db, "bare template page").bases = (
                    "bare",
                )
                if "pages" in figures:
                    self.pages(port, db, seed, heavy_session.read_text().strip())
                if "redeem" in figures:
                    self.survey(port, db, env, surveys, survey_sessions)
                    self.redeem(port, db, env, seed, sessions)

    # -- in-process --------------------------------------------------------------------------

    def balance(self, db: str, env: dict[str, str], seed: Json) -> None:
        log(f"{db}: balance read, {self.args.iterations} calls each")
        data = django_side(
            env,
            "balance",
            "--member",
            str(seed["heavy_member"]),
            "--iterations",
            str(self.args.iterations),
        )
        fig = InProcess(
            "balance",
            db,
            f"member_balance, {data['entries']:,} entries (median)",
            data["chorus"]["median_us"] / 1e6,
            data["plain"]["median_us"] / 1e6,
        )
        fig.data = data
        fig.check(
            "same balance",
            data["values"]["chorus"] == data["values"]["plain"] == seed["heavy_balance"],
            f"selector={data['values']['chorus']} plain={data['values']['plain']} "
            f"seeded={seed['heavy_balance']}",
        )
        fig.check("10,000 entries", data["entries"] >= 10_000, f"entries={data['entries']}")
        fig.notes.append(
            f"p95 Chorus {data['chorus']['p95_us']} µs, plain {data['plain']['p95_us']} µs; "
            f"{data['iterations']} calls each in interleaved rounds of 100"
        )
        self.inprocess.append(fig)

    def expiry(self, db: str, env: dict[str, str], seed: Json) -> None:
        log(f"{db}: expiry over {seed['expiry']['members']} members")
        try:
            data = django_side(
                env,
                "expire",
                "--community",
                str(seed["expiry"]["community_id"]),
                timeout=self.args.expiry_timeout,
            )
        except subprocess.TimeoutExpired:
            if db == "postgresql":
                pg_disconnect(self.args.db_name)
            fig = InProcess("expiry", db, "points_expire (did not finish)", float("nan"), 0.0)
            fig.check(
                f"finished within {self.args.expiry_timeout} s",
                False,
                "the expiry command was stopped; raise --expiry-timeout to wait longer",
            )
            self.inprocess.append(fig)
            return
        sql, chorus = data["sql"], data["chorus"]
        fig = InProcess(
            "expiry",
            db,
            f"points_expire, {data['members']:,} members",
            chorus["seconds"],
            sql["seconds"],
        )
        fig.data = data
        fig.check(
            "same entries as the plain INSERT … SELECT",
            (chorus["rows"], chorus["members"], chorus["points"])
            == (sql["rows"], sql["members"], sql["points"])
            and chorus["written"] == chorus["rows"],
            f"chorus rows={chorus['rows']} points={chorus['points']}; "
            f"sql rows={sql['rows']} points={sql['points']}",
        )
        fig.check(
            "one entry per inactive member, none left holding points",
            chorus["rows"] == chorus["members"] == data["inactive_members"]
            and chorus["inactive_members_holding_points"] == 0,
            f"inactive={data['inactive_members']} expired members={chorus['members']} "
            f"still holding={chorus['inactive_members_holding_points']}",
        )
        fig.check(
            "second run expires nothing more",
            data["again"]["written"] == 0 and data["expired_after_again"] == _counts(chorus),
            f"written={data['again']['written']} in {data['again']['seconds']} s",
        )
        fig.notes.append(
            f"{data['entries_before']:,} entries before; the second run took "
            f"{data['again']['seconds']} s; the baseline ran first, its rows were deleted "
            "(and the table vacuumed on PostgreSQL) before Chorus ran"
        )
        self.inprocess.append(fig)

    # -- over HTTP ---------------------------------------------------------------------------

    def pages(self, port: int, db: str, seed: Json, heavy_cookie: str) -> None:
        base = f"/c/{seed['org']}/{seed['community']}/rewards/"
        pages = (
            (
                "points",
                f"{base}points/",
                "portal points page (10,000 entries)",
                'data-testid="ledger"',
            ),
            ("catalogue", base, "portal rewards catalogue", "Bench reward 1"),
        )
        for name, path, label, marker in pages:
            target = Target("GET", path, cookie=heavy_cookie, must=[marker])
            fig = self.measure(port, target, name, db, label)
            fig.bases = ("bare-template", "bare")
            fig.notes.append("the same signed-in member for every request")

    def survey(self, port: int, db: str, env, surveys: Json, sessions: Path) -> None:
        def target(survey: Json) -> Target:
            path = f"/s/{survey['public_id']}/"
            bodies = partial(chorus_bodies, survey)
            return form_target(port, path, bodies, location=f"{path}thanks/", sessions=sessions)

        fig = self.measure(
            port,
            target(surveys["eager"]),
            "survey",
            db,
            "survey submit (as make bench-submit)",
            target(surveys["warm"]),
        )
        fig.bases = ("bare",)
        chorus_checks(
            fig,
            manage(
                "bench_check",
                "--key-prefix",
                "",
                "--survey",
                surveys["eager"]["public_id"],
                env=env,
            ),
        )

    def redeem(self, port: int, db: str, env, seed: Json, sessions: Path) -> None:
        base = f"/c/{seed['org']}/{seed['community']}/rewards/"
        # The last member only loads the form for its CSRF pair; the others post.
        lines = sessions.read_text().split()
        viewer, posting = lines[-1], self.workdir / f"{db}-redeem-posting.txt"
        posting.write_text("\n".join(lines[:-1]) + "\n")

        def bodies(token: str) -> list[str]:
            return [
                urllib.parse.urlencode([("csrfmiddlewaretoken", token), ("token", REDEEM_TOKEN)])
            ]

        def target(label: str) -> Target:
            path = f"{base}{seed['redeem_rewards'][label]}/redeem/"
            measured = form_target(
                port, path, bodies, location=f"{base}redemptions/", cookie=viewer
            )
            measured.sessions = posting
            return measured

        fig = self.measure(port, target("run"), "redeem", db, "redeem form POST", target("warm"))
        fig.bases = ("survey", "bare")
        time.sleep(1.0)
        counts = django_side(env, "redeem-check", "--reward", str(seed["redeem_rewards"]["run"]))
        counts["responses_without_member"] = 0
        row_checks(fig, counts)
        fig.check(
            "one hold per redemption, of its cost",
            counts["holds"] == counts["responses"]
            and counts["hold_points"] == counts["responses"] * counts["cost"],
            f"holds={counts['holds']} points={counts['hold_points']}",
        )
        expected = (
            counts["redeemers_all_rewards"] * seed["redeemer_points"]
            - counts["redemptions_all_rewards"] * seed["redeem_cost"]
        )
        fig.check(
            "ledger sums equal balances, none below zero",
            counts["redeemers_ledger_sum"] == expected and counts["negative_balances"] == 0,
            f"sum={counts['redeemers_ledger_sum']} expected={expected} "
            f"negative={counts['negative_balances']}",
        )
        fig.notes.append(
            "HTTP: wrk POSTs the portal's redeem form, each request another signed-in member; "
            "manual approval, so each request holds points and queues the member's email "
            "(eager tasks, dummymail)"
        )


def pg_disconnect(name: str) -> None:
    """End the sessions a stopped subprocess left on the database (its statement would
    otherwise run on beside the next figures)."""
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )


def _counts(figures: Json) -> Json:
    return {k: figures[k] for k in ("rows", "members", "points")}


def summary(fig: Figure) -> str:
    head = f"{fig.name:<8} {fig.db:<10} {fig.label:<44}"
    r = fig.wrk.get("ratios", {})
    ratio = "  ".join(f"{r[b]:.2f}x {b}" for b in fig.bases if b in r)
    return rate_line(head, fig.wrk, ratio, 36, fig.checks)


def markdown(bench: Rewards, args: argparse.Namespace) -> str:
    lines = [
        "# make bench-rewards",
        "",
        f"`{' '.join(sys.argv)}`",
        "",
        "| figure | db | what | Chorus | baseline | ratio | checks |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for fig in bench.inprocess:
        unit, scale = ("µs", 1e6) if fig.chorus_s < 0.01 else ("s", 1)
        lines.append(
            f"| {fig.name} | {fig.db} | {fig.label} | {fig.chorus_s * scale:.1f} {unit} "
            f"| plain SQL {fig.base_s * scale:.1f} {unit} | {fig.ratio:.2f}x | "
            f"{status_text(fig.checks)} |"
        )
    for fig in bench.figures:
        r = fig.wrk.get("ratios", {})
        base = ", ".join(f"{b}" for b in fig.bases if b in r)
        ratio = ", ".join(f"{r[b]:.2f}x {b}" for b in fig.bases if b in r)
        lines.append(
            f"| {fig.name} | {fig.db} | {fig.label} | {fig.rate:.1f} req/s | {base} | {ratio} "
            f"| {status_text(fig.checks)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = wrk_parser(__doc__, "figure")
    parser.add_argument("--db", default="postgresql,sqlite", help="postgresql,sqlite")
    parser.add_argument(
        "--figures", default=",".join(FIGURES), help=f"comma-separated, of {','.join(FIGURES)}"
    )
    parser.add_argument("--expiry-members", type=int, default=100_000)
    parser.add_argument("--redeemers", type=int, default=6000, help="members who redeem")
    parser.add_argument("--survey-members", type=int, default=6000)
    parser.add_argument("--iterations", type=int, default=2000, help="balance reads each")
    parser.add_argument("--db-name", default=DB_NAME)
    parser.add_argument(
        "--expiry-timeout", type=int, default=420, help="seconds the expiry figure may take"
    )
    args = parser.parse_args()
    args.figures = {f.strip() for f in args.figures.split(",") if f.strip()}
    if args.figures - set(FIGURES):
        raise SystemExit(f"--figures: choose from {','.join(FIGURES)}")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", args.db_name):
        raise SystemExit("--db-name: lower-case letters, digits and _ only")
    parse_wrk_args(parser, lambda a: bool(args.figures & {"pages", "redeem"}))

    bench_run = Run("rewards")
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    with bench_run.workdir() as workdir:
        bench = Rewards(args, bench_run.procs, workdir)
        if "postgresql" in dbs:
            pg_recreate(args.db_name)
            bench.context["postgresql"] = pg_settings(args.db_name)
            bench.database("postgresql", pg_url(args.db_name))
        if "sqlite" in dbs:
            path = RESULTS / f"{args.db_name}.sqlite3"
            sqlite_fresh(path)
            bench.context["sqlite"] = {"sqlite_version": sqlite3.sqlite_version}
            bench.database("sqlite", f"sqlite:///{path}")
    ratios(bench.figures)
    print()
    for fig in bench.inprocess:
        print(fig.line())
        print_checks(fig.checks, fig.notes)
    for fig in bench.figures:
        print(summary(fig))
        print_checks(fig.checks, fig.notes)
    ok = all(f.ok for f in bench.figures) and all(f.ok for f in bench.inprocess)
    report = {
        **bench_run.report(),
        "host": host(
            "django", "gunicorn", databases={k: v for k, v in bench.context.items() if k != "seed"}
        ),
        "load": load_json(
            args,
            figures=sorted(args.figures),
            expiry_members=args.expiry_members,
            redeemers=args.redeemers,
            survey_members=args.survey_members,
            balance_iterations=args.iterations,
        ),
        "seed": bench.context.get("seed", {}),
        "inprocess": [f.as_json() for f in bench.inprocess],
        "figures": [f.as_json() for f in bench.figures],
        "ok": ok,
    }
    out = bench_run.save(report)
    out.with_suffix(".md").write_text(markdown(bench, args))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
