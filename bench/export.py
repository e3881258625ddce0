"""`make bench-export`: response exports at 100,000 and 1,000,000 responses, each beside
PostgreSQL's own `COPY` of the same rows in the same run.

On PostgreSQL (database chorus_bench_export, dropped at the end unless --keep):

* seed  - one survey per size (NPS, stars, a single and a multiple choice, a text
          question) with 3-5 answers per response, over generate_series INSERTs
          (bench/export_django.py seed);
* csv   - GET …/export.csv through Django's test client, the streamed body read to the
          end, in a fresh process: seconds, rows/s, MB, the process's peak RSS;
* copy  - `COPY (<the statement Chorus runs>) TO STDOUT WITH CSV` under its session
          settings, on one connection, read to the end by psycopg in this process: the
          database's own floor for the same rows (Chorus splits a large export across two
          connections, so its CSV can beat this);
* pivot - the same COPY of the earlier statement (a GROUP BY pivot of raw values that
          Python finished row by row), for comparison with earlier runs;
* xlsx  - the XLSX file job (the service the worker's task runs), in a fresh process:
          seconds, rows/s, its rate against the CSV's, the file's size, peak RSS.

Checks: every response is a row of the CSV, of COPY and of the workbook (read back from
its sheet XML); the CSV starts with the byte-order mark and the header; the peak RSS. One
summary line per figure, printed as soon as it is measured, and bench/results/export-<ts>.json,
saved after each figure (with "partial": true until the run ends). See bench/README.md. No Django
here: the app runs in bench/export_django.py subprocesses.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    BENCH,
    PG_DSN,
    PYTHON,
    RESULTS,
    ROOT,
    Checked,
    Json,
    Run,
    chorus_env,
    host,
    last_json_line,
    log,
    migrate,
    pg_recreate,
    pg_settings,
    pg_url,
    print_checks,
    run,
    sqlite_fresh,
    status_text,
)

DJANGO_SIDE = BENCH / "export_django.py"
DB_NAME = "chorus_bench_export"
SIZES = (100_000, 1_000_000)
# The targets for 1,000,000 responses.
TARGET_SECONDS = 5.0
TARGET_RSS_MB = 200.0
TARGET_XLSX_RATIO = 0.3


def django_side(env: dict[str, str], *argv: str, timeout: float = 1800) -> Json:
    return last_json_line(run([PYTHON, str(DJANGO_SIDE), *argv], env=env, timeout=timeout))


def copy_baseline(
    db_name: str, statement: str, params: list, settings: tuple[str, list] | None = None
) -> Json:
    """PostgreSQL writing the statement's rows as CSV itself, on one connection, read to
    the end by psycopg (`settings`: a statement setting the session up first)."""
    import psycopg

    dsn = PG_DSN.replace("dbname=postgres", f"dbname={db_name}")
    size = lines = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        started = time.monotonic()
        if settings is not None:
            cursor.execute(*settings)
        with cursor.copy(f"COPY ({statement}) TO STDOUT WITH CSV", params) as copy:
            for data in copy:
                size += len(data)
                lines += bytes(data).count(b"\n")
        seconds = time.monotonic() - started
    return {"seconds": round(seconds, 3), "bytes": size, "rows": lines}


class Figure(Checked):
    def __init__(self, name: str, size: int, data: Json, db: str = "postgresql") -> None:
        self.name, self.size, self.data, self.db = name, size, data, db
        self.checks: list[Json] = []

    @property
    def rate(self) -> float:
        rows = self.data.get("rows") or self.data.get("rows_written") or 0
        return rows / self.data["seconds"] if self.data.get("seconds") else 0.0

    def line(self, extra: str) -> str:
        return (
            f"export {self.db:<10} {self.size:>9,} {self.name:<5} {self.data['seconds']:8.2f} s "
            f"{self.rate:>10,.0f} rows/s  {extra}  {status_text(self.checks)}"
        )

    def as_json(self) -> Json:
        return {
            "figure": self.name,
            "database": self.db,
            "responses": self.size,
            **self.data,
            "checks": self.checks,
        }


def _target(name: str, met: bool) -> str:
    # Targets are goals, not checks: a missed one is printed, and the run still succeeds.
    return f"{name}: {'met' if met else 'MISSED'}"


class Results:
    """The figures so far: each printed as soon as it is measured, and the JSON report
    saved again after each (marked partial until the end), so a run stopped half-way
    still leaves what it measured in bench/results/."""

    def __init__(self, bench_run: Run, context: Json) -> None:
        self.run, self.context = bench_run, context
        self.figures: list[Figure] = []
        self.seed: Json = {}
        self.path = None

    def add(self, fig: Figure) -> None:
        by = {(f.name, f.size): f for f in self.figures}
        extra = f"{fig.data['bytes'] / 2**20:7.1f} MB"
        targets: list[str] = []
        if fig.name == "csv":
            rss = fig.data["peak_rss_mb"]
            extra += f"  peak RSS {rss:.0f} MB ({fig.data['rss_before_mb']:.0f} before)"
            if fig.size == 1_000_000:
                targets.append(
                    _target(f"<= {TARGET_SECONDS:.0f} s", fig.data["seconds"] <= TARGET_SECONDS)
                )
                targets.append(_target(f"< {TARGET_RSS_MB:.0f} MB peak RSS", rss < TARGET_RSS_MB))
        csv = by.get(("csv", fig.size))
        if fig.name == "copy" and csv is not None:
            csv.data["time_vs_copy"] = round(csv.data["seconds"] / fig.data["seconds"], 3)
            extra += f"  the CSV took {csv.data['time_vs_copy']:.2f}x this"
        if fig.name == "xlsx" and csv is not None:
            ratio = fig.rate / csv.rate if csv.rate else 0
            fig.data["rate_vs_csv"] = round(ratio, 3)
            extra += f"  peak RSS {fig.data['peak_rss_mb']:.0f} MB  {ratio:.2f}x the CSV's rate"
            if fig.size == 1_000_000:
                targets.append(
                    _target(f">= {TARGET_XLSX_RATIO}x CSV rate", ratio >= TARGET_XLSX_RATIO)
                )
        fig.data["targets"] = targets
        self.figures.append(fig)
        print(fig.line(extra), flush=True)
        print_checks(fig.checks, [f"target {t}" for t in targets])
        sys.stdout.flush()
        self.save(partial=True)

    def save(self, *, partial: bool) -> Json:
        report = {
            **self.run.report(),
            "host": host("django", "psycopg", "XlsxWriter", databases=self.context),
            "load_average": list(os.getloadavg()),
            "seed": self.seed,
            "figures": [f.as_json() for f in self.figures],
            "ok": all(f.ok for f in self.figures),
            "partial": partial,
        }
        self.path = self.run.save(report)
        return report


def measure(
    results: Results, env: dict[str, str], db_name: str, size: int, survey: int, *, xlsx: bool
) -> None:
    log(f"{size:,}: CSV through the test client")
    csv = Figure("csv", size, django_side(env, "csv", "--survey", str(survey)))
    csv.check("status 200", csv.data["status"] == 200, str(csv.data["status"]))
    csv.check("a row per response", csv.data["rows"] == size, f"{csv.data['rows']:,} rows")
    csv.check("byte-order mark and header", csv.data["bom"], csv.data["header"][:60])
    results.add(csv)
    log(f"{size:,}: COPY of the same statement")
    pivot = django_side(env, "sql", "--survey", str(survey))
    settings = (pivot["settings"], pivot["settings_params"])
    copy = Figure("copy", size, copy_baseline(db_name, pivot["sql"], pivot["params"], settings))
    copy.check("same rows as the CSV", copy.data["rows"] == size, f"{copy.data['rows']:,} rows")
    results.add(copy)
    log(f"{size:,}: COPY of the earlier pivot statement")
    old = Figure("pivot", size, copy_baseline(db_name, pivot["pivot_sql"], pivot["pivot_params"]))
    old.check("a row per response", old.data["rows"] == size, f"{old.data['rows']:,} rows")
    results.add(old)
    if xlsx:
        log(f"{size:,}: XLSX file job")
        book = Figure("xlsx", size, django_side(env, "xlsx", "--survey", str(survey)))
        book.check("job done", book.data["status"] == "done", book.data["status"])
        book.check(
            "every row in the sheet",
            book.data["rows_read_back"] == size == book.data["rows_written"],
            f"{book.data['rows_read_back']} read back, {book.data['rows_written']} written",
        )
        results.add(book)


def sqlite_baseline(path: Path, statement: str, params: list) -> Json:
    """SQLite's own read of the pivot Chorus runs there (the sqlite3 module, rows fetched
    a chunk at a time to the end): the database's floor for the same rows."""
    import sqlite3

    rows = 0
    with contextlib.closing(sqlite3.connect(path)) as conn:
        started = time.monotonic()
        cursor = conn.execute(statement, params)
        while chunk := cursor.fetchmany(5000):
            rows += len(chunk)
        seconds = time.monotonic() - started
    return {"seconds": round(seconds, 3), "bytes": path.stat().st_size, "rows": rows}


def measure_sqlite(
    results: Results, env: dict[str, str], path: Path, size: int, survey: int, *, xlsx: bool
) -> None:
    log(f"sqlite {size:,}: CSV through the test client")
    csv = Figure("csv", size, django_side(env, "csv", "--survey", str(survey)), "sqlite")
    csv.check("status 200", csv.data["status"] == 200, str(csv.data["status"]))
    csv.check("a row per response", csv.data["rows"] == size, f"{csv.data['rows']:,} rows")
    results.add(csv)
    log(f"sqlite {size:,}: the pivot read by the sqlite3 module")
    pivot = django_side(env, "sql", "--survey", str(survey))
    raw = Figure(
        "raw", size, sqlite_baseline(path, pivot["pivot_sql"], pivot["pivot_params"]), "sqlite"
    )
    raw.check("a row per response", raw.data["rows"] == size, f"{raw.data['rows']:,} rows")
    results.add(raw)
    if xlsx:
        log(f"sqlite {size:,}: XLSX file job")
        book = Figure("xlsx", size, django_side(env, "xlsx", "--survey", str(survey)), "sqlite")
        book.check("job done", book.data["status"] == "done", book.data["status"])
        book.check(
            "every row in the sheet",
            book.data["rows_read_back"] == size == book.data["rows_written"],
            f"{book.data['rows_read_back']} read back, {book.data['rows_written']} written",
        )
        results.add(book)


def run_sqlite(args: argparse.Namespace, sizes: list[int]) -> int:
    import sqlite3

    path = RESULTS / "export-bench.sqlite3"
    sqlite_fresh(path)
    media = tempfile.TemporaryDirectory(prefix="bench-export-media-")
    env = {**chorus_env(f"sqlite:///{path}"), "MEDIA_ROOT": media.name}
    results = Results(Run("export", logs=False), {"sqlite": sqlite3.sqlite_version})
    try:
        log("migrating (SQLite)")
        migrate(env)
        log(f"seeding {', '.join(f'{s:,}' for s in sizes)} responses")
        results.seed = django_side(env, "seed", "--responses", *map(str, sizes), timeout=3600)
        log(f"seeded in {results.seed['seconds']} s")
        for size in sizes:
            survey = results.seed["surveys"][str(size)]
            measure_sqlite(results, env, path, size, survey, xlsx=not args.no_xlsx)
    finally:
        media.cleanup()
        if not args.keep:
            sqlite_fresh(path)
        report = results.save(partial=False)
        print(f"\nwrote {results.path.relative_to(ROOT)}", flush=True)
    return 0 if report["ok"] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="responses, comma-separated"
    )
    parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX job figures")
    parser.add_argument("--db-name", default=DB_NAME)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--db",
        choices=("postgresql", "sqlite"),
        default="postgresql",
        help="sqlite: csv, the pivot read by sqlite3, and xlsx on SQLite (try --sizes 100000)",
    )
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", args.db_name):
        raise SystemExit("--db-name: lower-case letters, digits and _ only")
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    if args.db == "sqlite":
        return run_sqlite(args, sizes)

    bench_run = Run("export", logs=False)
    pg_recreate(args.db_name)
    media = tempfile.TemporaryDirectory(prefix="bench-export-media-")
    # The XLSX job writes its file under MEDIA_ROOT/exports/; the run's own folder.
    env = {**chorus_env(pg_url(args.db_name)), "MEDIA_ROOT": media.name}
    results = Results(bench_run, {"postgresql": pg_settings(args.db_name)})
    try:
        log("migrating")
        migrate(env)
        log(f"seeding {', '.join(f'{s:,}' for s in sizes)} responses")
        results.seed = django_side(env, "seed", "--responses", *map(str, sizes), timeout=3600)
        log(f"seeded in {results.seed['seconds']} s")
        for size in sizes:
            survey = results.seed["surveys"][str(size)]
            measure(results, env, args.db_name, size, survey, xlsx=not args.no_xlsx)
    finally:
        media.cleanup()
        if not args.keep:
            import psycopg

            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
        report = results.save(partial=False)
        print(f"\nwrote {results.path.relative_to(ROOT)}", flush=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
