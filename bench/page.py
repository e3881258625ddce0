"""`make bench-page`: what the respondent page costs to send and to serve, beside a bare page.

One scripted run, on SQLite (the embedded default), through gunicorn (-w 2 sync workers on
127.0.0.1) with whitenoise serving the static files collected as in production (hashed
names, .gz and .br variants):

* bytes      - the respondent page GET /s/<public_id>/ (a survey with every question type)
               fetched like a browser with `Accept-Encoding: gzip, br`, in English and in
               Hebrew (right-to-left: bootstrap.rtl), as a visitor and as a signed-in member,
               then every same-origin stylesheet and script it links: the bytes each body
               takes on the wire and the total; the same for the bare template page;
* load       - wrk (-t1 -c4) on the respondent page and on the bare template page:
               req/s, p50/p99 and the ratio respondent / bare template;
* in-process - Django's test Client, N requests after a warm-up, per-request time and
               SQL queries, without a server (en and he respondent page, bare template).

Every figure comes with its correctness checks (all 200, the page really holds the survey's
questions and its form, static files served compressed, intact, with the right type), one
summary line each, and JSON in bench/results/page-<timestamp>.json. See bench/README.md.

Like the other benches, the script imports no Django: migrate, collectstatic, the seed and the
in-process timing run as subprocesses under the settings being measured.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    PYTHON,
    Checked,
    Json,
    Run,
    chorus_env,
    free_port,
    host,
    log,
    manage,
    migrate,
    print_checks,
    run,
    server,
    status_text,
)
from bench.load import (  # noqa: E402
    Target,
    load_json,
    parse_wrk_args,
    rate_line,
    warm_then_measure,
    wrk_counts,
    wrk_parser,
)
from bench.page_bytes import (  # noqa: E402
    ACCEPT_ENCODING,
    BARE_TEMPLATE,
    GZIP_LEVEL,
    Visit,
    measure_bytes,
    print_visits,
)

WRK_CONNECTIONS = 4
# The admin's and DRF's browsable-API files: no page measured here links them, and leaving
# them out halves collectstatic. Every other file is compressed exactly as in production.
COLLECT_IGNORE = ("admin", "rest_framework")


# --- load ----------------------------------------------------------------------------------


def wrk_get(
    port: int, path: str, *, seconds: int, connections: int, run_id: str, workdir: Path
) -> Json:
    """GET `path` for `seconds` with wrk -t1 -c<connections>; the submit Lua script counts."""
    result = wrk_counts(
        port,
        Target("GET", path),
        seconds=seconds,
        run_id=run_id,
        workdir=workdir,
        connections=connections,
    )
    result["rate"] = result["s2xx"] / (result["duration_us"] / 1e6)
    return result


@dataclass
class Load(Checked):
    name: str
    label: str
    path: str
    wrk: Json
    warm: Json | None
    checks: list[Json] = field(default_factory=list)
    ratios: Json = field(default_factory=dict)


def load_checks(load: Load) -> None:
    for label, w in (("warm-up", load.warm), ("measured run", load.wrk)):
        if w is None:
            continue
        not_ok = w["s3xx"] + w["s4xx"] + w["s5xx"] + w["other"]
        errors = sum(w["errors"].values())
        load.check(
            f"every response 200 ({label})",
            not_ok == 0 and errors == 0 and w["s2xx"] > 0,
            f"200={w['s2xx']} 3xx={w['s3xx']} 4xx={w['s4xx']} 5xx={w['s5xx']} errors={w['errors']}",
        )


# --- setup ---------------------------------------------------------------------------------


def page_env(database_url: str, static_root: Path) -> dict[str, str]:
    """The bench's production-shaped environment, with the static manifest back on."""
    return {
        **chorus_env(database_url),
        # Production's storage: CompressedManifestStaticFilesStorage (hashed names, .gz, .br).
        "STATIC_MANIFEST": "true",
        "BENCH_STATIC_ROOT": str(static_root),
    }


def static_summary(static_root: Path) -> Json:
    files = [p for p in static_root.rglob("*") if p.is_file()]
    return {
        "files": len(files),
        "gz": sum(p.suffix == ".gz" for p in files),
        "br": sum(p.suffix == ".br" for p in files),
        "manifest": (static_root / "staticfiles.json").is_file(),
    }


# --- report --------------------------------------------------------------------------------


def load_line(load: Load) -> str:
    ratio = ""
    if "bare template" in load.ratios:
        r = load.ratios["bare template"]
        ratio = f"{r:.2f}x bare template (server time {1 / r:.1f}x)" if r else ""
    return rate_line(f"page load  {load.label:<28}", load.wrk, ratio, 42, load.checks)


def inprocess_line(entry: Json, label: str, bare: Json | None) -> str:
    ms = entry["ms"]
    ratio = ""
    if bare and bare is not entry and bare["ms"]["p50"] > 0:
        ratio = f"{ms['p50'] / bare['ms']['p50']:.1f}x bare template (p50)"
    return (
        f"page time  {label:<28} p50 {ms['p50']:6.2f} ms  mean {ms['mean']:6.2f} ms  "
        f"p99 {ms['p99']:6.2f} ms  {entry['queries']:>2} SQL queries  {ratio:<28} "
        f"{status_text(entry['checks'])}"
    )


# --- the run -------------------------------------------------------------------------------


def prepare(env: dict[str, str], static_root: Path) -> tuple[Json, Json]:
    """migrate, collectstatic as in production, the seed; returns (setup report, seed)."""
    setup: Json = {}
    log("sqlite: migrating")
    migrate(env)
    log("collectstatic (CompressedManifestStaticFilesStorage) into the run directory")
    t0 = time.monotonic()
    ignore = [arg for name in COLLECT_IGNORE for arg in ("--ignore", name)]
    run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0", *ignore], env=env)
    setup["collectstatic_s"] = round(time.monotonic() - t0, 1)
    setup["static"] = {**static_summary(static_root), "ignored": list(COLLECT_IGNORE)}
    seed = manage("bench_page_seed", env=env)
    setup["survey"] = {
        "public_id": seed["public_id"],
        "languages": seed["languages"],
        "question_types": [q["type"] for q in seed["questions"]],
    }
    return setup, seed


def measure_load(args: argparse.Namespace, port: int, workdir: Path, respondent: str) -> list[Load]:
    """wrk on the respondent page (each of --load-langs) and on the bare template page."""
    langs = [x.strip() for x in args.load_langs.split(",") if x.strip()]
    targets = [
        (f"respondent-{lang}", f"respondent {lang} (visitor)", f"{respondent}?lang={lang}")
        for lang in langs
    ] + [("bare-template", "bare template", BARE_TEMPLATE)]
    shoot = partial(wrk_get, port, connections=args.connections, workdir=workdir)
    loads = []
    for name, label, path in targets:
        note = f" (wrk -t1 -c{args.connections})"
        warm, result = warm_then_measure(args, shoot, path, path, name, label, note)
        load = Load(name, label, path, result, warm)
        load_checks(load)
        loads.append(load)
        time.sleep(1.0)
    return loads


def measure_inprocess(args: argparse.Namespace, env: dict[str, str], respondent: str) -> list[Json]:
    """bench_page_time: the test Client, no server, per page (en, he, bare template)."""
    log(f"in-process: {args.requests} test Client requests per page")
    paths = [f"{respondent}?lang=en", f"{respondent}?lang=he", BARE_TEMPLATE]
    cmd = [PYTHON, "manage.py", "bench_page_time", "--requests", str(args.requests)]
    for p in paths:
        cmd += ["--path", p]
    out = run(cmd, env=env, timeout=600)
    entries = json.loads(next(x for x in reversed(out.strip().splitlines()) if x.startswith("[")))
    labels = ["respondent en (visitor)", "respondent he (visitor)", "bare template"]
    for entry, label in zip(entries, labels, strict=True):
        entry["label"] = label
        bad = {s: n for s, n in entry["statuses"].items() if s != "200"}
        entry["checks"] = [
            {
                "check": "every response 200",
                "ok": not bad and entry["statuses"].get("200") == entry["requests"],
                "detail": f"{entry['statuses']}",
            }
        ]
    return entries


def print_figures(visits: list[Visit], loads: list[Load], inprocess: list[Json]) -> None:
    """Each figure's line and checks; the ratios to the bare template go into `loads`."""
    bare_load = next((x for x in loads if x.name == "bare-template"), None)
    for load in loads:
        if bare_load and load is not bare_load and bare_load.wrk["rate"] > 0:
            load.ratios["bare template"] = round(load.wrk["rate"] / bare_load.wrk["rate"], 3)
    bare_time = next((e for e in inprocess if e["label"] == "bare template"), None)

    print()
    print_visits(visits)
    for load in loads:
        print(load_line(load))
        print_checks(load.checks)
    for entry in inprocess:
        print(inprocess_line(entry, entry["label"], bare_time))
        print_checks(entry["checks"])


def main() -> int:
    parser = wrk_parser(__doc__, "page")
    parser.add_argument("--connections", type=int, default=WRK_CONNECTIONS, help="wrk -c")
    parser.add_argument("--load-langs", default="en", help="respondent languages under wrk")
    parser.add_argument("--requests", type=int, default=300, help="in-process requests per page")
    parser.add_argument("--no-inprocess", action="store_true", help="skip the test Client timing")
    args = parse_wrk_args(parser)

    bench_run = Run("page")
    inprocess: list[Json] = []
    with bench_run.workdir() as workdir:
        static_root = workdir / "staticfiles"
        env = page_env(f"sqlite:///{workdir / 'page.sqlite3'}", static_root)
        setup, seed = prepare(env, static_root)
        respondent = f"/s/{seed['public_id']}/"
        port = free_port()
        with server(bench_run.procs, "gunicorn-page", env, port, BARE_TEMPLATE):
            visits = measure_bytes(port, static_root, seed)
            loads = measure_load(args, port, workdir, respondent)
        # In-process, with gunicorn stopped so the cores are free.
        if not args.no_inprocess:
            inprocess = measure_inprocess(args, env, respondent)

    print_figures(visits, loads, inprocess)
    ok = (
        all(v.ok for v in visits)
        and all(x.ok for x in loads)
        and all(c["ok"] for e in inprocess for c in e["checks"])
    )
    report = {
        **bench_run.report(),
        "host": host(
            "django",
            "gunicorn",
            "whitenoise",
            "brotli",
            database={"engine": "sqlite", "sqlite_version": sqlite3.sqlite_version},
        ),
        "setup": {
            **setup,
            "static_storage": "whitenoise.storage.CompressedManifestStaticFilesStorage",
            "accept_encoding": ACCEPT_ENCODING,
            "html_proxy_gzip_level": GZIP_LEVEL,
        },
        "load": load_json(args, connections=args.connections),
        "bytes": [v.as_json() for v in visits],
        "load_figures": [
            {
                "name": x.name,
                "label": x.label,
                "path": x.path,
                "req_per_s": round(x.wrk["rate"], 1),
                "latency_ms": {k: v / 1000 for k, v in x.wrk["latency_us"].items()},
                "ratios": x.ratios,
                "wrk": x.wrk,
                "warmup": x.warm,
                "checks": x.checks,
            }
            for x in loads
        ],
        "inprocess": inprocess,
        "ok": ok,
    }
    bench_run.save(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
