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

Like submit.py, the script imports no Django: migrate, collectstatic, the seed and the
in-process timing run as subprocesses under the settings being measured.
"""

from __future__ import annotations

import argparse
import gzip
import html
import http.client
import importlib.metadata
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.submit import (  # noqa: E402
    LUA,
    RESULTS,
    ROOT,
    VENV_BIN,
    WORKERS,
    Processes,
    chorus_env,
    free_port,
    gunicorn_cmd,
    last_json_line,
    log,
    run,
    server,
)

WRK_THREADS = 1
WRK_CONNECTIONS = 4
ACCEPT_ENCODING = "gzip, br"
BARE_TEMPLATE = "/bench/bare-template/"
STATIC_URL_PREFIX = "/static/"  # config.settings.STATIC_URL
# The admin's and DRF's browsable-API files: no page measured here links them, and leaving
# them out halves collectstatic. Every other file is compressed exactly as in production.
COLLECT_IGNORE = ("admin", "rest_framework")
GZIP_LEVEL = 6
# What whitenoise may answer for each kind of asset.
CONTENT_TYPES = {
    "css": ("text/css",),
    "js": ("text/javascript", "application/javascript"),
    "icon": ("image/svg+xml", "image/x-icon", "image/png", "image/vnd.microsoft.icon"),
}

Json = dict[str, Any]


# --- fetching like a browser ---------------------------------------------------------------


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes  # as received: still compressed when Content-Encoding says so
    header_bytes: int  # status line + headers + blank line, as the server sent them


def fetch(port: int, path: str, cookie: str | None = None) -> Fetched:
    """One GET with a browser's Accept-Encoding; the body is not decoded."""
    headers = {"Accept-Encoding": ACCEPT_ENCODING, "User-Agent": "chorus-bench-page"}
    if cookie:
        headers["Cookie"] = cookie
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        items = resp.msg.items()
        header_bytes = (
            len(f"HTTP/1.1 {resp.status} {resp.reason}\r\n")
            + sum(len(f"{k}: {v}\r\n".encode("latin-1", "replace")) for k, v in items)
            + 2
        )
        return Fetched(resp.status, {k.lower(): v for k, v in items}, body, header_bytes)
    finally:
        conn.close()


def decode(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        import brotli  # whitenoise[brotli] is in the project's requirements

        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    return body


class AssetParser(HTMLParser):
    """The stylesheets, scripts and icons a page asks the browser to fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            if "stylesheet" in rel:
                self.assets.append(("css", a["href"]))
            elif "icon" in rel:
                self.assets.append(("icon", a["href"]))
        elif tag == "script" and a.get("src"):
            self.assets.append(("js", a["src"]))


@dataclass
class Visit:
    """One page load: the HTML and every same-origin asset it links."""

    name: str
    page: str  # "respondent" | "bare template"
    lang: str
    who: str  # "visitor" | "member"
    path: str
    resources: list[Json] = field(default_factory=list)
    totals: Json = field(default_factory=dict)
    checks: list[Json] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": name, "ok": bool(ok), "detail": detail})


def resource(kind: str, path: str, got: Fetched) -> Json:
    encoding = got.headers.get("content-encoding", "identity")
    decoded = decode(got.body, encoding) if got.status == 200 else got.body
    row: Json = {
        "kind": kind,
        "path": path,
        "status": got.status,
        "content_type": got.headers.get("content-type", ""),
        "content_encoding": encoding,
        "wire_bytes": len(got.body),
        "content_length": int(got.headers.get("content-length", "-1")),
        "decoded_bytes": len(decoded),
        "header_bytes": got.header_bytes,
        "cache_control": got.headers.get("cache-control", ""),
    }
    if kind == "html" and encoding == "identity":
        # No GZipMiddleware in Chorus: this is what a reverse proxy compressing at gzip -6
        # (nginx's `gzip_comp_level 6`, say) would send instead.
        row["gzip6_bytes"] = len(gzip.compress(got.body, compresslevel=GZIP_LEVEL, mtime=0))
    row["_decoded"] = decoded
    return row


def load_page(port: int, visit: Visit, static_root: Path, cookie: str | None) -> str:
    """Fetch the page and its assets into `visit`; returns the decoded HTML."""
    got = fetch(port, visit.path, cookie)
    page = resource("html", visit.path, got)
    visit.resources.append(page)
    text = page["_decoded"].decode("utf-8", "replace")
    parser = AssetParser()
    parser.feed(text)
    foreign = []
    for kind, url in parser.assets:
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != f"127.0.0.1:{port}":
            foreign.append(url)
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        row = resource(kind, path, fetch(port, path, cookie))
        static = STATIC_URL_PREFIX
        if parts.path.startswith(static):
            on_disk = static_root / parts.path[len(static) :]
            row["file_bytes"] = on_disk.stat().st_size if on_disk.is_file() else -1
            row["_intact"] = on_disk.is_file() and on_disk.read_bytes() == row["_decoded"]
        visit.resources.append(row)
    if foreign:
        visit.notes.append(f"cross-origin assets not fetched (not in the totals): {foreign}")
    return text


def totals(visit: Visit) -> None:
    """Bytes per kind and in all; the icon is listed but kept out of HTML + CSS + JS."""
    rows = visit.resources
    page = rows[0]
    counted = [r for r in rows if r["kind"] in ("html", "css", "js")]
    html_proxied = page.get("gzip6_bytes", page["wire_bytes"])
    assets = sum(r["wire_bytes"] for r in counted[1:])
    visit.totals = {
        "requests": len(counted),
        "html_served_bytes": page["wire_bytes"],
        "html_encoding": page["content_encoding"],
        "html_gzip6_bytes": page.get("gzip6_bytes"),
        "css_files": sum(r["kind"] == "css" for r in counted),
        "css_bytes": sum(r["wire_bytes"] for r in counted if r["kind"] == "css"),
        "js_files": sum(r["kind"] == "js" for r in counted),
        "js_bytes": sum(r["wire_bytes"] for r in counted if r["kind"] == "js"),
        # What the app sends by itself (HTML as served) ...
        "served_bytes": page["wire_bytes"] + assets,
        # ... and behind a reverse proxy that gzips the HTML at level 6.
        "proxied_bytes": html_proxied + assets,
        "decoded_bytes": sum(r["decoded_bytes"] for r in counted),
        "header_bytes": sum(r["header_bytes"] for r in counted),
        # A second page view: hashed, immutable assets come from the browser's cache.
        "repeat_view_bytes": page["wire_bytes"]
        + sum(r["wire_bytes"] for r in counted[1:] if "immutable" not in r["cache_control"]),
        "icon_bytes": sum(r["wire_bytes"] for r in rows if r["kind"] == "icon"),
    }


def asset_checks(visit: Visit) -> None:
    rows = visit.resources
    bad = [f"{r['path']}={r['status']}" for r in rows if r["status"] != 200]
    visit.check("every response 200", not bad, f"{len(rows)} responses, not 200: {bad or 'none'}")
    lengths = [r["path"] for r in rows if r["content_length"] != r["wire_bytes"]]
    visit.check(
        "Content-Length == bytes received",
        not lengths,
        f"mismatched: {lengths or 'none'}",
    )
    assets = rows[1:]
    wrong_type = [
        f"{r['path']}: {r['content_type']!r}"
        for r in assets
        if not r["content_type"].split(";")[0].strip().startswith(CONTENT_TYPES[r["kind"]])
    ]
    visit.check(
        "static assets have the expected content-type",
        not wrong_type,
        ", ".join(f"{r['kind']}={r['content_type'].split(';')[0]}" for r in assets)
        if not wrong_type
        else f"wrong: {wrong_type}",
    )
    text_assets = [r for r in assets if r["kind"] in ("css", "js")]
    uncompressed = [r["path"] for r in text_assets if r["content_encoding"] not in ("br", "gzip")]
    visit.check(
        "CSS/JS served compressed",
        not uncompressed,
        ", ".join(sorted({r["content_encoding"] for r in text_assets}))
        if not uncompressed
        else f"uncompressed: {uncompressed}",
    )
    broken = [r["path"] for r in assets if not r.get("_intact", False)]
    visit.check(
        "decoded assets == collected files",
        not broken,
        f"{len(assets) - len(broken)}/{len(assets)} byte-identical to STATIC_ROOT"
        + (f", differ: {broken}" if broken else ""),
    )


def respondent_checks(visit: Visit, text: str, seed: Json) -> None:
    lang = visit.lang
    missing = [
        q["type"]
        for q in seed["questions"]
        if html.escape(q["text"][lang], quote=False) not in text
        or f'name="{q["field"]}"' not in text
    ]
    form_bits = [
        '<form method="post"',
        'name="csrfmiddlewaretoken"',
        'name="idempotency_key"',
        'type="submit"',
    ]
    missing_form = [bit for bit in form_bits if bit not in text]
    title = html.escape(seed["title"][lang], quote=False)
    visit.check(
        "page holds the survey's questions and its form",
        not missing and not missing_form and title in text,
        f"{len(seed['questions']) - len(missing)}/{len(seed['questions'])} questions "
        f"(wording in {lang} + input), form {len(form_bits) - len(missing_form)}/{len(form_bits)}"
        + (f", missing: {missing + missing_form}" if missing or missing_form else "")
        + ("" if title in text else ", title missing"),
    )
    rtl = lang == "he"
    sheets = [r["path"] for r in visit.resources if r["kind"] == "css"]
    has_rtl = any("bootstrap.rtl" in p for p in sheets)
    direction = f'<html lang="{lang}" dir="{"rtl" if rtl else "ltr"}"'
    visit.check(
        "language and direction",
        direction in text and has_rtl == rtl,
        f"{direction}> {'found' if direction in text else 'MISSING'}, "
        f"bootstrap.rtl {'loaded' if has_rtl else 'not loaded'}",
    )
    email = seed["member"]["email"]
    if visit.who == "member":
        ok = email in text and 'name="consent_to_contact"' in text
        detail = f"answering as {email}: {'shown' if email in text else 'MISSING'}, consent box"
    else:
        ok = email not in text and 'name="consent_to_contact"' not in text
        detail = "no member shown, no consent box"
    visit.check("signed in" if visit.who == "member" else "anonymous", ok, detail)


# --- load ----------------------------------------------------------------------------------


def wrk_get(
    port: int, path: str, *, seconds: int, connections: int, run_id: str, workdir: Path
) -> Json:
    """GET `path` for `seconds` with wrk -t1 -c<connections>; the submit Lua script counts."""
    cmd = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{path}",
        "--",
        "GET",
        path,
        "-",
        "-",
        "-",
        run_id,
        str(WRK_THREADS),
        "-",
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 60, check=False, cwd=workdir
    )
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            result = json.loads(line[len("WRKJSON ") :])
            break
    else:
        raise RuntimeError(f"wrk printed no result ({done.returncode}):\n{done.stderr[-2000:]}")
    result["rate"] = result["s2xx"] / (result["duration_us"] / 1e6)
    return result


@dataclass
class Load:
    name: str
    label: str
    path: str
    wrk: Json
    warm: Json | None
    checks: list[Json] = field(default_factory=list)
    ratios: Json = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks)


def load_checks(load: Load) -> None:
    for label, w in (("warm-up", load.warm), ("measured run", load.wrk)):
        if w is None:
            continue
        not_ok = w["s3xx"] + w["s4xx"] + w["s5xx"] + w["other"]
        errors = sum(w["errors"].values())
        load.checks.append(
            {
                "check": f"every response 200 ({label})",
                "ok": not_ok == 0 and errors == 0 and w["s2xx"] > 0,
                "detail": f"200={w['s2xx']} 3xx={w['s3xx']} 4xx={w['s4xx']} 5xx={w['s5xx']} "
                f"errors={w['errors']}",
            }
        )


# --- setup ---------------------------------------------------------------------------------


def page_env(database_url: str, static_root: Path) -> dict[str, str]:
    """submit.py's production-shaped environment, with the static manifest back on."""
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


def kb(n: int | None) -> str:
    return "-" if n is None else f"{n:,} B"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def status_text(checks: list[Json]) -> str:
    failed = [c["check"] for c in checks if not c["ok"]]
    return "checks ok" if not failed else "CHECKS FAILED: " + "; ".join(failed)


def print_checks(checks: list[Json], notes: list[str] | None = None) -> None:
    for check in checks:
        mark = "ok  " if check["ok"] else "FAIL"
        print(f"    {mark} {check['check']}: {check['detail']}")
    for note in notes or []:
        print(f"    note: {note}")


def visit_line(visit: Visit, bare_total: int | None) -> str:
    t = visit.totals
    html_part = f"html {kb(t['html_served_bytes'])} {t['html_encoding']}"
    if t["html_gzip6_bytes"] is not None:
        html_part += f" (gzip -6: {kb(t['html_gzip6_bytes'])})"
    ratio = ""
    if bare_total and visit.page != "bare template":
        ratio = f"  {t['served_bytes'] / bare_total:.0f}x the bare template's bytes"
    return (
        f"page bytes {visit.name:<28} {plural(t['requests'], 'request')}  {html_part}  "
        f"css {t['css_files']}: {kb(t['css_bytes'])}  js {t['js_files']}: {kb(t['js_bytes'])}  "
        f"total served {kb(t['served_bytes'])}, with HTML gzip -6 {kb(t['proxied_bytes'])}"
        f"{ratio}  {status_text(visit.checks)}"
    )


def resource_line(r: Json) -> str:
    extra = f"decoded {kb(r['decoded_bytes'])}"
    if "gzip6_bytes" in r:
        extra = f"not compressed by the app; gzip -6 would send {kb(r['gzip6_bytes'])}"
    kind = r["content_type"].split(";")[0]
    return (
        f"      {r['kind']:<4} {r['status']} {kind:<16} {r['content_encoding']:<8} "
        f"{r['wire_bytes']:>9,} B  ({extra})  {r['path']}"
    )


def load_line(load: Load) -> str:
    w = load.wrk
    p50, p99 = (w["latency_us"][p] / 1000 for p in ("p50", "p99"))
    ratio = ""
    if "bare template" in load.ratios:
        r = load.ratios["bare template"]
        ratio = f"{r:.2f}x bare template (server time {1 / r:.1f}x)" if r else ""
    return (
        f"page load  {load.label:<28} {w['rate']:8.1f} req/s  p50 {p50:6.1f} ms  "
        f"p99 {p99:6.1f} ms  {ratio:<42} {status_text(load.checks)}"
    )


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per page")
    parser.add_argument("--connections", type=int, default=WRK_CONNECTIONS, help="wrk -c")
    parser.add_argument("--load-langs", default="en", help="respondent languages under wrk")
    parser.add_argument("--requests", type=int, default=300, help="in-process requests per page")
    parser.add_argument("--no-inprocess", action="store_true", help="skip the test Client timing")
    args = parser.parse_args()
    if args.duration < 10:
        log("note: under 10 s per endpoint is a smoke test, not a figure (BENCH.md)")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / f"page-{stamp}-logs"
    log_dir.mkdir()
    procs = Processes(log_dir)
    started = time.monotonic()
    visits: list[Visit] = []
    loads: list[Load] = []
    inprocess: list[Json] = []
    setup: Json = {}
    with tempfile.TemporaryDirectory(prefix="bench-page-") as tmp:
        workdir = Path(tmp)
        static_root = workdir / "staticfiles"
        db_path = workdir / "page.sqlite3"
        env = page_env(f"sqlite:///{db_path}", static_root)
        python = str(VENV_BIN / "python")
        try:
            log("sqlite: migrating")
            run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env=env)
            log("collectstatic (CompressedManifestStaticFilesStorage) into the run directory")
            t0 = time.monotonic()
            ignore = [arg for name in COLLECT_IGNORE for arg in ("--ignore", name)]
            run([python, "manage.py", "collectstatic", "--noinput", "-v", "0", *ignore], env=env)
            setup["collectstatic_s"] = round(time.monotonic() - t0, 1)
            setup["static"] = {**static_summary(static_root), "ignored": list(COLLECT_IGNORE)}
            seed = last_json_line(run([python, "manage.py", "bench_page_seed"], env=env))
            setup["survey"] = {
                "public_id": seed["public_id"],
                "languages": seed["languages"],
                "question_types": [q["type"] for q in seed["questions"]],
            }
            respondent = f"/s/{seed['public_id']}/"

            port = free_port()
            cmd = gunicorn_cmd(VENV_BIN / "gunicorn", "config.wsgi:application", port, ROOT)
            with server(procs, "gunicorn-page", cmd, env, port, BARE_TEMPLATE):
                # -- bytes --------------------------------------------------------------
                for lang in ("en", "he"):
                    for who in ("visitor", "member"):
                        visit = Visit(
                            f"respondent {lang} ({who})",
                            "respondent",
                            lang,
                            who,
                            f"{respondent}?lang={lang}",
                        )
                        cookie = seed["member"]["cookie"] if who == "member" else None
                        text = load_page(port, visit, static_root, cookie)
                        asset_checks(visit)
                        respondent_checks(visit, text, seed)
                        totals(visit)
                        visits.append(visit)
                bare = Visit("bare template", "bare template", "en", "visitor", BARE_TEMPLATE)
                text = load_page(port, bare, static_root, None)
                bare.check(
                    "every response 200",
                    all(r["status"] == 200 for r in bare.resources),
                    f"{len(bare.resources)} response(s)",
                )
                bare.check(
                    "the bare page: title + paragraph, no assets",
                    "<title>Bench</title>" in text and "<p>" in text and len(bare.resources) == 1,
                    f"{len(text)} characters, {len(bare.resources) - 1} assets",
                )
                totals(bare)
                visits.append(bare)

                # -- load ---------------------------------------------------------------
                targets = [
                    (
                        f"respondent-{lang}",
                        f"respondent {lang} (visitor)",
                        f"{respondent}?lang={lang}",
                    )
                    for lang in [x.strip() for x in args.load_langs.split(",") if x.strip()]
                ] + [("bare-template", "bare template", BARE_TEMPLATE)]
                for name, label, path in targets:
                    warm = None
                    if args.warmup:
                        warm = wrk_get(
                            port,
                            path,
                            seconds=args.warmup,
                            connections=args.connections,
                            run_id=f"warm-{name}",
                            workdir=workdir,
                        )
                        time.sleep(1.0)
                    log(f"measuring {label} for {args.duration}s (wrk -t1 -c{args.connections})")
                    result = wrk_get(
                        port,
                        path,
                        seconds=args.duration,
                        connections=args.connections,
                        run_id=name,
                        workdir=workdir,
                    )
                    load = Load(name, label, path, result, warm)
                    load_checks(load)
                    loads.append(load)
                    time.sleep(1.0)

            # -- in-process, with gunicorn stopped so the cores are free ----------------
            if not args.no_inprocess:
                log(f"in-process: {args.requests} test Client requests per page")
                paths = [f"{respondent}?lang=en", f"{respondent}?lang=he", BARE_TEMPLATE]
                cmd = [python, "manage.py", "bench_page_time", "--requests", str(args.requests)]
                for p in paths:
                    cmd += ["--path", p]
                out = run(cmd, env=env, timeout=600)
                entries = json.loads(
                    next(x for x in reversed(out.strip().splitlines()) if x.startswith("["))
                )
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
                    inprocess.append(entry)
        finally:
            procs.stop_all()

    bare_load = next((x for x in loads if x.name == "bare-template"), None)
    for load in loads:
        if bare_load and load is not bare_load and bare_load.wrk["rate"] > 0:
            load.ratios["bare template"] = round(load.wrk["rate"] / bare_load.wrk["rate"], 3)
    bare_visit = next((v for v in visits if v.page == "bare template"), None)
    bare_total = bare_visit.totals["served_bytes"] if bare_visit else None
    bare_time = next((e for e in inprocess if e["label"] == "bare template"), None)

    print()
    for visit in visits:
        print(visit_line(visit, bare_total))
        for r in visit.resources:
            print(resource_line(r))
        t = visit.totals
        print(
            f"      = {plural(t['requests'], 'request')}: {kb(t['served_bytes'])} served "
            f"(HTML {t['html_encoding']}), {kb(t['proxied_bytes'])} behind a gzip -6 proxy; "
            f"{kb(t['decoded_bytes'])} decoded; + {kb(t['header_bytes'])} of response headers; "
            f"repeat view {kb(t['repeat_view_bytes'])} (immutable assets cached)"
        )
        print_checks(visit.checks, visit.notes)
    for load in loads:
        print(load_line(load))
        print_checks(load.checks)
    for entry in inprocess:
        print(inprocess_line(entry, entry["label"], bare_time))
        print_checks(entry["checks"])

    ok = (
        all(v.ok for v in visits)
        and all(x.ok for x in loads)
        and all(c["ok"] for e in inprocess for c in e["checks"])
    )
    for visit in visits:
        for r in visit.resources:
            r.pop("_decoded", None)
            r["intact"] = r.pop("_intact", None)
    report = {
        "benchmark": "page",
        "timestamp": stamp,
        "command": "make bench-page  # " + " ".join(sys.argv[1:]),
        "elapsed_s": round(time.monotonic() - started, 1),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "django": importlib.metadata.version("django"),
            "gunicorn": importlib.metadata.version("gunicorn"),
            "whitenoise": importlib.metadata.version("whitenoise"),
            "brotli": importlib.metadata.version("brotli"),
            "database": {"engine": "sqlite", "sqlite_version": sqlite3.sqlite_version},
        },
        "setup": {
            **setup,
            "static_storage": "whitenoise.storage.CompressedManifestStaticFilesStorage",
            "accept_encoding": ACCEPT_ENCODING,
            "html_proxy_gzip_level": GZIP_LEVEL,
        },
        "load": {
            "tool": "wrk",
            "threads": WRK_THREADS,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "gunicorn_workers": WORKERS,
        },
        "bytes": [
            {
                "name": v.name,
                "page": v.page,
                "lang": v.lang,
                "who": v.who,
                "path": v.path,
                "totals": v.totals,
                "resources": v.resources,
                "checks": v.checks,
                "notes": v.notes,
            }
            for v in visits
        ],
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
    out = RESULTS / f"page-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)} ({report['elapsed_s']} s); logs in {log_dir.name}/")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
