"""The byte figures of `make bench-page` (bench/page.py): a page fetched like a browser.

Each Visit is one page load: the HTML with `Accept-Encoding: gzip, br`, then every
same-origin stylesheet, script and icon it links, fetched the same way. It records the
bytes each body takes on the wire (and decoded), adds them up, checks the responses (status,
length, type, compression, byte-identical to the collected files) and, for the respondent
page, that it really is the survey in the right language. print_visits() prints them.
"""

from __future__ import annotations

import gzip
import html
import http.client
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import Checked, Json, print_checks, status_text
from bench.load import BARE_TEMPLATE

ACCEPT_ENCODING = "gzip, br"
STATIC_URL_PREFIX = "/static/"  # config.settings.STATIC_URL
GZIP_LEVEL = 6
# What whitenoise may answer for each kind of asset.
CONTENT_TYPES = {
    "css": ("text/css",),
    "js": ("text/javascript", "application/javascript"),
    "icon": ("image/svg+xml", "image/x-icon", "image/png", "image/vnd.microsoft.icon"),
}


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
class Visit(Checked):
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

    def as_json(self) -> Json:
        """The visit for the report, with each resource's decoded body dropped."""
        for r in self.resources:
            r.pop("_decoded", None)
            r["intact"] = r.pop("_intact", None)
        return {
            "name": self.name,
            "page": self.page,
            "lang": self.lang,
            "who": self.who,
            "path": self.path,
            "totals": self.totals,
            "resources": self.resources,
            "checks": self.checks,
            "notes": self.notes,
        }


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


def measure_bytes(port: int, static_root: Path, seed: Json) -> list[Visit]:
    """The respondent page in en and he, as a visitor and a member, then the bare template."""
    visits = []
    for lang in ("en", "he"):
        for who in ("visitor", "member"):
            visit = Visit(
                f"respondent {lang} ({who})",
                "respondent",
                lang,
                who,
                f"/s/{seed['public_id']}/?lang={lang}",
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
    return visits


# --- report --------------------------------------------------------------------------------


def kb(n: int | None) -> str:
    return "-" if n is None else f"{n:,} B"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


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


def print_visits(visits: list[Visit]) -> None:
    """One line per visit, one per resource, the totals, then the visit's checks."""
    bare_visit = next((v for v in visits if v.page == "bare template"), None)
    bare_total = bare_visit.totals["served_bytes"] if bare_visit else None
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
