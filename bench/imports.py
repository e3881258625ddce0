"""`make bench-import`: a 50,000-row member CSV import, in rows per second.

One scripted run per database (PostgreSQL with `synchronous_commit=on`, and SQLite, the
embedded default), each beside its baseline measured in the same process:

* chorus   - the import as staff run it, through the real services the tasks call: the
             upload (decode, header check, save), the check (every row validated into the
             per-row report: email syntax and normalisation, duplicates in the file and
             against the community, language, four typed attributes) and the commit (every
             row re-checked, members and one consent record each bulk-created in one
             transaction). Rows/s is the file's rows over the three phases together.
* baseline - `Member.objects.bulk_create` of the same 50,000 rows (already parsed, no
             validation, no consent records) into an empty community.

Checks after each run: exactly 50,000 members, 50,000 distinct lower-cased addresses, every
attribute stored, 50,000 consent records (one per member, channel import), the import
done with 0 errors and its file no longer kept, a second run of each task doing nothing; the
baseline wrote 50,000 members. The exit status is non-zero when a check fails.

Like the other benches this script imports no Django: the measurement runs as
`manage.py bench_import_run` under bench.baseline.settings, on a database created for it.
Prints one line per figure and writes bench/results/import-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    RESULTS,
    ROOT,
    Json,
    Run,
    add_check,
    chorus_env,
    host,
    log,
    manage,
    migrate,
    pg_recreate,
    pg_settings,
    pg_url,
    print_checks,
    sqlite_fresh,
)

PG_DB = "chorus_bench_import"


def measure(database_url: str, rows: int) -> Json:
    env = chorus_env(database_url)
    log(f"migrating {database_url}")
    migrate(env, timeout=600)
    log(f"importing {rows:,} rows")
    return manage("bench_import_run", "--rows", str(rows), env=env, timeout=3600)


def checks(result: Json) -> list[tuple[str, bool, str]]:
    rows = result["rows"]
    chorus, base = result["chorus"], result["baseline"]
    c, imp = chorus["counts"], chorus["import"]
    return [
        (
            f"{rows:,} members imported, all distinct and lower-cased",
            c["members"] == c["distinct_emails"] == c["lowercase_emails"] == rows,
            f"members={c['members']} distinct={c['distinct_emails']} lower={c['lowercase_emails']}",
        ),
        (
            "every attribute stored",
            c["with_attributes"] == rows,
            f"with birthday={c['with_attributes']}",
        ),
        (
            "one import consent per member",
            c["consents"] == c["import_consents"] == rows
            and c["members_with_several_consents"] == 0,
            f"consents={c['consents']} import={c['import_consents']} "
            f"several={c['members_with_several_consents']}",
        ),
        (
            "import done, 0 errors, file not kept",
            imp["status"] == "done"
            and imp["created_count"] == imp["valid_rows"] == imp["total_rows"] == rows
            and imp["error_count"] == 0
            and not imp["content_kept"],
            json.dumps(imp),
        ),
        (
            "a second run of each task does nothing",
            chorus["rerun"] == {"check": "skipped", "commit": "done"}
            and result["imports_done"] == 1,
            json.dumps(chorus["rerun"]),
        ),
        (
            f"baseline wrote {rows:,} members",
            base["counts"]["members"] == rows,
            f"members={base['counts']['members']}",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--db", default="postgresql,sqlite", help="postgresql,sqlite")
    args = parser.parse_args()
    bench_run = Run("import", logs=False)
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    figures: dict[str, Json] = {}
    context: dict[str, Json] = {}
    if "postgresql" in dbs:
        pg_recreate(PG_DB)
        context["postgresql"] = pg_settings(PG_DB)
        figures["postgresql"] = measure(pg_url(PG_DB), args.rows)
    if "sqlite" in dbs:
        path = RESULTS / "import-bench.sqlite3"
        sqlite_fresh(path)
        context["sqlite"] = {"sqlite_version": sqlite3.sqlite_version}
        figures["sqlite"] = measure(f"sqlite:///{path}", args.rows)

    print()
    for db, result in figures.items():
        chorus, base = result["chorus"], result["baseline"]
        ratio = chorus["rows_per_s"] / base["rows_per_s"] if base["rows_per_s"] else 0
        result["ratio_to_bulk_create"] = round(ratio, 3)
        phases = chorus["phases_s"]
        print(
            f"import {db:<10} chorus {chorus['rows_per_s']:9.1f} rows/s "
            f"({chorus['seconds']:.1f} s: upload {phases['upload']:.1f} s, check "
            f"{phases['check']:.1f} s, commit {phases['commit']:.1f} s)  "
            f"bulk_create {base['rows_per_s']:9.1f} rows/s  {ratio:.2f}x bulk_create"
        )
        result["checks"] = []
        for name, passed, detail in checks(result):
            add_check(result["checks"], name, passed, detail)
        print_checks(result["checks"])
    ok = all(c["ok"] for result in figures.values() for c in result["checks"])
    report = {
        **bench_run.report(),
        "host": host("django", databases=context),
        "figures": figures,
        "ok": ok,
    }
    out = bench_run.save(report)
    print(f"\nresults: {out.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
