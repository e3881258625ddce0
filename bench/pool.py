"""`make bench-pool`: what the anonymous mixing pool costs a submission, and its release.

One scripted run per database (PostgreSQL with `synchronous_commit=on`, and SQLite, the
embedded default) measures, side by side:

* submits through gunicorn (-w 2 sync workers) and wrk (-t1 -c8), each after a warm-up on
  its own survey, every request from a different signed-in member (bench/submit.lua
  rotates the sessions `bench_pool_seed` minted):
    bare view, minimal submit  - the framework's ceiling and the floor of a write
                                 (Bench.baselines(), as in make bench-submit);
    identified submit          - POST /s/<id>/ to an IDENTIFIED survey with points: the
                                 existing path (response, answers, participation, ledger,
                                 and for the 30 % detractors a case, consent and outbox row;
                                 sentiment in the request: no Redis, eager tasks);
    pooled submit              - the same answers to an ANONYMOUS survey with points for
                                 anonymous answers: the participation owing the points and a
                                 PooledAnswer, in an organisation whose k is above what the
                                 run pools, so the figure is the request's own cost;
    pooled, release in request - the same with k = 5: without Redis the release task runs
                                 eagerly after commit whenever k answers wait, so the
                                 figure carries its share of the releases;
* the release, in-process, as the worker's task runs it (`anonymous_pool_release`, then
  `anonymous_points_release` in another transaction): of the pool the wrk run left, and of
  seeded batches (1,000 and 10,000 pooled answers with their participations owing points),
  each beside a plain bulk_create of the same responses, answers and choice rows.

Every figure comes with its checks (rows written == requests accepted, 0 non-2xx/3xx, no
duplicates; after release: the pool empty, responses == pooled answers, ledger entries ==
members who answered), one summary line each, and bench/results/pool-<timestamp>.json. See
bench/README.md. Like the other benches the script imports no Django: seeding, counting and
the release run as `manage.py bench_pool_*` subprocesses under bench.baseline.settings.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    RESULTS,
    Checked,
    Json,
    Run,
    chorus_env,
    free_port,
    host,
    log,
    manage,
    migrate,
    pg_recreate,
    pg_settings,
    pg_url,
    print_checks,
    server,
    sqlite_fresh,
    status_text,
)
from bench.load import (  # noqa: E402
    BARE,
    DETRACTOR_SLOTS,
    Bench,
    Figure,
    Target,
    answer_mix,
    chorus_bodies,
    chorus_checks,
    form_target,
    load_json,
    parse_wrk_args,
    rate_line,
    ratio_text,
    ratios,
    wrk_parser,
)

PG_DB = "chorus_bench_pool"
SQLITE_PATH = RESULTS / "pool-bench.sqlite3"
ANSWERS_PER_RESPONSE = 4
CHOICE_ROWS_PER_RESPONSE = 3
# The wrk figures: (name, seeded survey label, summary label).
SUBMITS = (
    ("identified", "identified", "identified submit (existing path)"),
    ("pooled", "pooled", "pooled submit (k above the run)"),
    ("pooled-eager", "pooled-eager", "pooled submit, release in request (k=5)"),
)


@dataclass
class Release(Checked):
    """One timed release (of a wrk run's pool or of a seeded batch) and its checks."""

    name: str
    db: str
    label: str
    result: Json
    baseline: Json | None = None
    checks: list[Json] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if not self.baseline or not self.baseline["answers_per_s"]:
            return None
        return self.result["release"]["answers_per_s"] / self.baseline["answers_per_s"]

    def as_json(self) -> Json:
        ratio = self.ratio
        return {
            "name": self.name,
            "db": self.db,
            "label": self.label,
            "answers": self.result["release"]["released"],
            "answers_per_s": self.result["release"]["answers_per_s"],
            "release": self.result["release"],
            "baseline_bulk_create": self.baseline,
            "ratio_to_bulk_create": round(ratio, 4) if ratio is not None else None,
            "counts": {"before": self.result["before"], "after": self.result["after"]},
            "checks": self.checks,
            "notes": self.notes,
        }


# --- checks --------------------------------------------------------------------------------


def pooled_request_checks(fig: Figure, c: Json) -> None:
    """The pooled figure before any release: what the requests themselves wrote."""
    w = fig.wrk
    n = c["pooled"]
    expected = w["accepted"] + w["in_flight"]
    fig.check(
        "rows written == requests accepted",
        n == expected,
        f"pooled answers={n} accepted={w['accepted']} + in flight at wrk's stop={w['in_flight']}",
    )
    fig.check(
        "nothing released during the run (k above it)",
        c["responses"] == 0 and c["ledger_entries"] == 0,
        f"responses={c['responses']} ledger entries={c['ledger_entries']} k={c['k']}",
    )
    owing(fig, c, n)
    fig.check(
        "no duplicates",
        c["pooled_distinct_keys"] == n and c["participating_members"] == c["participations"],
        f"distinct keys={c['pooled_distinct_keys']}/{n} "
        f"members={c['participating_members']}/{c['participations']}",
    )


def owing(fig: Checked, c: Json, n: int) -> None:
    fig.check(
        "one participation owing the points per pooled answer",
        c["participations"] == c["participations_pending"] == n
        and c["points_pending_sum"] == n * c["points"],
        f"participations={c['participations']} owing={c['participations_pending']} "
        f"points owed={c['points_pending_sum']} expected={n * c['points']}",
    )


def eager_request_checks(fig: Figure, c: Json) -> None:
    """The eager figure before the closing release: released + still pooled == accepted."""
    w = fig.wrk
    n = c["responses"] + c["pooled"]
    expected = w["accepted"] + w["in_flight"]
    fig.check(
        "rows written == requests accepted",
        n == expected,
        f"released={c['responses']} + pooled={c['pooled']} accepted={w['accepted']} "
        f"+ in flight at wrk's stop={w['in_flight']}",
    )
    fig.check(
        "released in the requests, fewer than k left waiting",
        c["pooled"] < c["k"] and c["responses"] > 0,
        f"released={c['responses']} waiting={c['pooled']} k={c['k']}",
    )
    fig.check(
        "one participation per answer; no duplicates",
        c["participations"] == c["participating_members"] == n
        and c["distinct_keys"] == c["responses"]
        and c["pooled_distinct_keys"] == c["pooled"]
        and c["ledger_members_twice"] == 0,
        f"participations={c['participations']} members={c['participating_members']} "
        f"distinct response keys={c['distinct_keys']}/{c['responses']} "
        f"members credited twice={c['ledger_members_twice']}",
    )


def released_checks(fig: Checked, c: Json, n: int, released: int | None = None) -> None:
    """After a release: the pool empty, every answer a response, every member credited once."""
    if released is not None:
        fig.check(
            "pool emptied",
            c["pooled"] == 0 and released == n,
            f"left in pool={c['pooled']} released={released} of {n}",
        )
    else:
        fig.check("pool emptied", c["pooled"] == 0, f"left in pool={c['pooled']}")
    fig.check(
        "responses == pooled answers, each whole",
        c["responses"] == c["distinct_keys"] == n
        and c["answers"] == ANSWERS_PER_RESPONSE * n
        and c["answer_choices"] == CHOICE_ROWS_PER_RESPONSE * n,
        f"responses={c['responses']} distinct keys={c['distinct_keys']} expected={n} "
        f"answers={c['answers']} choice rows={c['answer_choices']}",
    )
    fig.check(
        "ledger entries == members who answered",
        c["ledger_entries"] == c["ledger_members"] == c["participating_members"] == n
        and c["ledger_sum"] == n * c["points"]
        and c["participations_pending"] == 0
        and c["ledger_members_twice"] == 0
        and c["ledger_to_non_participants"] == 0,
        f"entries={c['ledger_entries']} members credited={c['ledger_members']} "
        f"who answered={c['participating_members']} sum={c['ledger_sum']} "
        f"expected={n * c['points']} still owing={c['participations_pending']}",
    )
    fig.check(
        "nothing ties an answer to a member or a moment",
        c["responses_not_anonymous"] == 0
        and c["responses_off_the_hour"] == 0
        and c["ledger_not_by_day"] == 0,
        f"responses with identity={c['responses_not_anonymous']} "
        f"off the batch hour={c['responses_off_the_hour']} "
        f"ledger entries not dated by day={c['ledger_not_by_day']}",
    )
    share = c["detractors"] / n if n else 0.0
    fig.check(
        "30 % detractors, a case each, every response analysed",
        abs(share - 0.30) <= 0.02
        and c["cases"] == c["detractors"]
        and c["analysed"] == n
        and c["text_answers_unscored"] == 0
        and c["outbox"] == 0,
        f"detractors={c['detractors']} ({share:.1%}) cases={c['cases']} "
        f"analysed={c['analysed']}/{n} unscored texts={c['text_answers_unscored']} "
        f"follow-up emails={c['outbox']}",
    )


def baseline_checks(fig: Release, base: Json, n: int) -> None:
    c = base["counts"]
    fig.check(
        f"baseline wrote {n:,} responses with their answers",
        c["responses"] == c["distinct_keys"] == n
        and c["answers"] == ANSWERS_PER_RESPONSE * n
        and c["answer_choices"] == CHOICE_ROWS_PER_RESPONSE * n,
        f"responses={c['responses']} answers={c['answers']} choice rows={c['answer_choices']}",
    )


# --- the run -------------------------------------------------------------------------------


class PoolBench(Bench):
    """Bench (measure(), baselines(), figures) plus the pool's submit and release figures."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.releases: list[Release] = []

    def database(self, db: str, database_url: str) -> None:
        env = chorus_env(database_url)
        log(f"{db}: migrating and seeding {self.args.members:,} members")
        migrate(env)
        sessions = self.workdir / f"pool-{db}-sessions.txt"
        seed = manage(
            "bench_pool_seed",
            "--members",
            str(self.args.members),
            "--sessions-out",
            str(sessions),
            env=env,
        )
        surveys = seed["surveys"]

        def target(port: int, label: str) -> Target:
            survey = surveys[label]
            path = f"/s/{survey['public_id']}/"
            # An anonymous survey asks for no consent to be contacted.
            consent = survey["anonymity"] != "anonymous"
            bodies = partial(chorus_bodies, survey, consent=consent)
            return form_target(port, path, bodies, location=f"{path}thanks/", sessions=sessions)

        figs: dict[str, Figure] = {}
        port = free_port()
        with server(self.procs, f"gunicorn-pool-{db}", env, port, BARE):
            self.baselines(port, db, env)
            for name, label, title in SUBMITS:
                # Each warm-up answers its own survey, so the measured one starts empty and
                # the same members can answer both.
                figs[name] = self.measure(
                    port, target(port, label), name, db, title, target(port, f"warm-{label}")
                )
        # gunicorn has stopped (SIGTERM: every request in hand finished): count.

        def counts(label: str) -> Json:
            return manage("bench_pool_check", f"--survey={surveys[label]['public_id']}", env=env)

        fig = figs["identified"]
        chorus_checks(
            fig, manage("bench_check", f"--survey={surveys['identified']['public_id']}", env=env)
        )
        fig.notes.append(
            "REDIS_URL unset: sentiment (every submission has text) and the follow-up send "
            "(detractors) run in the web request after commit, as in make bench-submit"
        )

        fig = figs["pooled"]
        pooled_request_checks(fig, counts("pooled"))
        fig.notes.append(
            f"k={surveys['pooled']['k']} (the organisation's minimum group size) is above what "
            "the run pools, so no request releases: this is the request's own cost; the "
            "release is the next lines' figure"
        )
        self.release_run_pool(db, env, "pooled", surveys, fig)

        fig = figs["pooled-eager"]
        eager_request_checks(fig, counts("pooled-eager"))
        fig.notes.append(
            "k=5 and no Redis: once k answers wait, the request runs the release task eagerly "
            "after its commit (pool release + points release, each its own transaction)"
        )
        self.release_run_pool(db, env, "pooled-eager", surveys, fig, closing=True)

        self.release_batches(db, env)

    def release_run_pool(
        self,
        db: str,
        env: dict[str, str],
        label: str,
        surveys: Json,
        fig: Figure,
        *,
        closing: bool = False,
    ) -> None:
        """Release what a wrk run left in the pool (the survey closed first) and check it all."""
        log(f"{db}: releasing the pool of the {label} run")
        result = manage(
            "bench_pool_release",
            f"--survey={surveys[label]['public_id']}",
            env=env,
            timeout=1800,
        )
        before, after = result["before"], result["after"]
        n = before["pooled"] + before["responses"]
        if closing:
            # The requests released all but the last few; the closing release takes those.
            released_checks(fig, after, n)
            fig.counts = {"before_closing_release": before, "after": after}
            return
        rel = Release(
            name=f"release-{label}",
            db=db,
            label=f"release of the {label} run's pool",
            result=result,
        )
        owing(rel, before, before["pooled"])
        released_checks(rel, after, before["pooled"], result["release"]["released"])
        fig.counts = before
        self.releases.append(rel)

    def release_batches(self, db: str, env: dict[str, str]) -> None:
        sizes = [int(s) for s in self.args.sizes.split(",") if s.strip()]
        if not sizes:
            return
        log(f"{db}: releasing seeded batches of {', '.join(f'{n:,}' for n in sizes)}")
        mix = json.dumps([[score, text] for _i, _d, score, text in answer_mix()])
        argv = ["bench_pool_release", "--sizes", ",".join(map(str, sizes)), "--mix", mix]
        if self.args.profile:
            out = self.procs.log_dir / f"release-profile-{db}.txt"
            argv += ["--profile", str(self.args.profile), "--profile-out", str(out)]
        result = manage(*argv, env=env, timeout=3600)
        for batch in result["batches"]:
            n = batch["size"]
            rel = Release(
                name=f"release-{n}",
                db=db,
                label=f"release of a batch of {n:,}",
                result=batch,
                baseline=batch["baseline"],
            )
            owing(rel, batch["before"], n)
            released_checks(rel, batch["after"], n, batch["release"]["released"])
            baseline_checks(rel, batch["baseline"], n)
            self.releases.append(rel)


# --- report --------------------------------------------------------------------------------


BASES = ("bare", "minimal", "identified")


def summary_line(fig: Figure) -> str:
    head = f"pool {fig.db:<10} {fig.label:<42}"
    return rate_line(head, fig.wrk, ratio_text(fig, BASES), 46, fig.checks)


def release_line(rel: Release) -> str:
    r = rel.result["release"]
    head = f"pool {rel.db:<10} {rel.label:<42}"
    text = (
        f"{head} {r['answers_per_s']:8.1f} answers/s  {r['ms_per_answer']:.2f} ms/answer "
        f"({r['released']:,} in {r['seconds']:.1f} s: pool {r['pool_release_s']:.1f} s, "
        f"points {r['points_release_s']:.1f} s)"
    )
    if rel.baseline is not None:
        text += (
            f"  bulk_create {rel.baseline['answers_per_s']:8.1f} answers/s  "
            f"{rel.ratio:.3f}x bulk_create"
        )
    return f"{text}  {status_text(rel.checks)}"


def main() -> int:
    parser = wrk_parser(__doc__, "figure")
    parser.add_argument("--members", type=int, default=20000, help="signed-in members seeded")
    parser.add_argument("--sizes", default="1000,10000", help="seeded batches to release")
    parser.add_argument("--db", default="postgresql,sqlite", help="postgresql,sqlite")
    parser.add_argument(
        "--profile", type=int, default=0, help="also cProfile a release of N (into the logs)"
    )
    args = parse_wrk_args(parser)

    bench_run = Run("pool")
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    with bench_run.workdir() as workdir:
        bench = PoolBench(args, bench_run.procs, workdir)
        if "postgresql" in dbs:
            pg_recreate(PG_DB)
            bench.context["postgresql"] = pg_settings(PG_DB)
            bench.database("postgresql", pg_url(PG_DB))
        if "sqlite" in dbs:
            sqlite_fresh(SQLITE_PATH)
            bench.context["sqlite"] = {
                "sqlite_version": sqlite3.sqlite_version,
                "pragmas": "journal_mode=WAL, synchronous=NORMAL, IMMEDIATE transactions",
            }
            bench.database("sqlite", f"sqlite:///{SQLITE_PATH}")

    figures = bench.figures
    ratios(figures)
    for fig in figures:
        identified = next((f for f in figures if f.db == fig.db and f.name == "identified"), None)
        if fig.name.startswith("pooled") and identified is not None and identified.rate > 0:
            fig.wrk["ratios"]["identified"] = round(fig.rate / identified.rate, 3)
    print()
    for db in dbs:
        for fig in (f for f in figures if f.db == db):
            print(summary_line(fig))
            print_checks(fig.checks, fig.notes)
        for rel in (r for r in bench.releases if r.db == db):
            print(release_line(rel))
            print_checks(rel.checks, rel.notes)
    ok = all(f.ok for f in figures) and all(r.ok for r in bench.releases)
    report = {
        **bench_run.report(),
        "host": host("django", "gunicorn", databases=bench.context),
        "load": load_json(
            args,
            members=args.members,
            detractor_share=len(DETRACTOR_SLOTS) / 10,
            batch_sizes=args.sizes,
        ),
        "figures": [f.as_json() for f in figures],
        "releases": [r.as_json() for r in bench.releases],
        "ok": ok,
    }
    bench_run.save(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
