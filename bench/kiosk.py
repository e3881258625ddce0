"""The kiosk figures of `make bench-channels` (bench/channels.py): load, replay and checks.

wrk_kiosk() POSTs kiosk JSON bodies (30 % detractors, a unique idempotency key each) with
bench/channels.lua (through wrk_json_posts(), which make bench-submit's kiosk figure also
uses, bench/hotpath.py); replay() resends keys already stored, as a kiosk flushing its offline
queue would; kiosk_checks() holds the figure to what the database and the replay show.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness import BENCH, Json
from bench.load import DETRACTOR_SLOTS, WRK_THREADS, Figure, answer_mix, run_wrk

LUA = BENCH / "channels.lua"
# The kiosk's per-device limit (30 a minute in production) would answer 429 to a load
# generator after 30 requests: lifted for the benchmarks (KIOSK_RATE_PER_MINUTE in the app's
# environment), and said so in the README. The counter is still taken on every request.
KIOSK_RATE = "100000000"
DETRACTOR_STARS = (1, 2, 2)
OTHER_STARS = (5, 4, 5, 5, 4, 5, 4)


def kiosk_bodies(kiosk: Json) -> list[str]:
    """Ten JSON bodies, three of them detractors (low NPS and stars, a negative text)."""
    nps, star = kiosk["nps"]["field"], kiosk["star"]["field"]
    single, text = kiosk["single_choice"], kiosk["text"]["field"]
    low_stars, high_stars = iter(DETRACTOR_STARS), iter(OTHER_STARS)
    bodies = []
    for i, detractor, score, words in answer_mix():
        answers = {
            nps: score,
            star: next(low_stars) if detractor else next(high_stars),
            single["field"]: single["choices"][i % 3],
            text: words,
        }
        bodies.append(
            json.dumps({"idempotency_key": "__KEY__", "language": "en", "answers": answers})
        )
    return bodies


def kiosk_path(device_token: str) -> str:
    """A kiosk's submit URL (surveys:kiosk_submit)."""
    return f"/k/{device_token}/responses/"


def wrk_kiosk(port: int, kiosk: Json, *, seconds: int, run_id: str, workdir: Path) -> Json:
    """POST kiosk bodies for `seconds` with wrk -t1 -c8; returns channels.lua's counts."""
    paths = [kiosk_path(kiosk["device_token"])]
    return wrk_json_posts(
        port, paths, kiosk_bodies(kiosk), seconds=seconds, run_id=run_id, workdir=workdir
    )


def wrk_json_posts(
    port: int, paths: list[str], bodies: list[str], *, seconds: int, run_id: str, workdir: Path
) -> Json:
    """POST JSON `bodies` ("__KEY__" a unique key each) in turn to `paths` (one kiosk each)
    for `seconds` with wrk -t1 -c8 and channels.lua; its counts, with what was created
    ("accepted", a 201), what was not, and the rate of 201s."""
    bodies_file = workdir / f"{run_id}-bodies.jsonl"
    bodies_file.write_text("\n".join(bodies) + "\n")
    script_args = [",".join(paths), str(bodies_file), run_id, str(WRK_THREADS)]
    result = run_wrk(LUA, port, paths[0], script_args, seconds=seconds, workdir=workdir)
    # The shape Figure and ratios() read.
    result["accepted"] = result["s201"]
    result["in_flight"] = result["sent"] - result["received"]
    result["rate"] = result["accepted"] / (result["duration_us"] / 1e6)
    result["not_created"] = (
        result["s200"]
        + result["s2xx_other"]
        + result["s3xx"]
        + result["s4xx_other"]
        + result["s429"]
        + result["s5xx"]
        + result["other"]
    )
    return result


def wrk_summary(w: Json) -> str:
    return (
        f"201={w['s201']} 200={w['s200']} 429={w['s429']} other 4xx={w['s4xx_other']} "
        f"5xx={w['s5xx']} other={w['s2xx_other'] + w['s3xx'] + w['other']} errors={w['errors']}"
    )


def replay(port: int, kiosk: Json, sample: list[list[Any]]) -> Json:
    """Resend already-used keys as a kiosk flushing its offline queue would: expect 200s."""
    path = kiosk_path(kiosk["device_token"])
    # A detractor's answers: a replay that were stored again would also open a case.
    answers = json.loads(kiosk_bodies(kiosk)[DETRACTOR_SLOTS[0]])["answers"]
    statuses: Counter[int] = Counter()
    same_response = 0
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for key, response_id in sample:
            body = json.dumps({"idempotency_key": key, "language": "en", "answers": answers})
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            statuses[resp.status] += 1
            if resp.status == 200:
                with contextlib.suppress(ValueError):
                    if json.loads(data) == {"id": response_id, "created": False}:
                        same_response += 1
    finally:
        conn.close()
    return {
        "replays": len(sample),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "same_response": same_response,
        "seconds": round(time.monotonic() - started, 3),
    }


def kiosk_checks(fig: Figure, counts: Json, after: Json, replays: Json) -> None:
    w = fig.wrk
    errors = sum(w["errors"].values())
    fig.check(
        "every answer 201: 0 non-2xx, 0 replays (200), 0 rate-limited (429), 0 socket errors",
        w["not_created"] == 0 and errors == 0 and w["s201"] > 0,
        wrk_summary(w),
    )
    n = counts["responses"]
    fig.counts = counts
    fig.check(
        "rows written == 201 answers (+ in flight at wrk's stop)",
        w["accepted"] <= n <= w["accepted"] + w["in_flight"],
        f"rows={n} 201s={w['accepted']} in flight at wrk's stop={w['in_flight']}",
    )
    fig.check(
        "no duplicate responses",
        counts["distinct_keys"] == n and counts["duplicate_keys"] == 0,
        f"distinct keys={counts['distinct_keys']} duplicated keys={counts['duplicate_keys']}",
    )
    identity = (
        counts["with_member"]
        + counts["with_invitation"]
        + counts["not_anonymous"]
        + counts["with_consent"]
    )
    fig.check(
        "every response anonymous (no member, no invitation, no consent)",
        identity == 0,
        f"member={counts['with_member']} invitation={counts['with_invitation']} "
        f"not anonymous={counts['not_anonymous']} consent={counts['with_consent']}",
    )
    fig.check(
        "every response tagged: this kiosk's channel, its store, its survey, language en",
        counts["wrong_location"] == 0
        and counts["wrong_survey"] == 0
        and counts["languages"] == {"en": n},
        f"channel={n}/{n} wrong store={counts['wrong_location']} "
        f"wrong survey={counts['wrong_survey']} languages={counts['languages']}",
    )
    fig.check(
        "4 answers and 1 choice row per response",
        counts["answers"] == 4 * n and counts["answer_choices"] == n,
        f"answers={counts['answers']} choice rows={counts['answer_choices']}",
    )
    share = counts["detractors"] / n if n else 0.0
    fig.check(
        "30 % detractors, a case each, no follow-up email (nobody to write to)",
        abs(share - 0.30) <= 0.02
        and counts["cases"] == counts["detractors"]
        and counts["followup_emails"] == 0,
        f"detractors={counts['detractors']} ({share:.1%}) cases={counts['cases']} "
        f"follow-up emails={counts['followup_emails']}",
    )
    fig.check(
        "every response analysed (text scored; negative exactly for the detractors)",
        counts["analysed"] == n
        and counts["text_scored"] == counts["text_answers"] == n
        and counts["negative_texts"] == counts["detractors"],
        f"analysed={counts['analysed']} texts scored={counts['text_scored']}/"
        f"{counts['text_answers']} negative={counts['negative_texts']}",
    )
    unchanged = {k: v for k, v in counts.items() if k != "sample"} == after
    fig.check(
        f"replay: {replays['replays']} used keys resent answer 200 with the stored response "
        f"and write nothing",
        replays["statuses"] == {"200": replays["replays"]}
        and replays["same_response"] == replays["replays"]
        and unchanged
        and replays["replays"] > 0,
        f"statuses={replays['statuses']} same response={replays['same_response']} "
        f"rows before={n} after={after['responses']} cases after={after['cases']}"
        + ("" if unchanged else " COUNTS CHANGED"),
    )
