"""Every number the survey results page, the results API and the CSV export show for a
seeded survey — 55 responses with known answers over nine weeks, three channels, three
stores and four languages — equals the figure worked out here by hand from the seed
(never through surveys.metrics), with the small groups suppressed as the rules say. Run
with the responses read live (nothing folded yet) and folded into the roll-ups."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict

import pytest
from django.urls import reverse
from django.utils import timezone

from insights.rollups.fold import rollups_fold_all
from surveys.choices import ChannelKind, QuestionType
from tests.factories.communities import LocationFactory
from tests.factories.surveys import (
    AnswerFactory,
    ChannelFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

K = 5
START = dt.date(2025, 1, 27)  # a Monday: 63 days are nine whole weeks
# (store or None, channel kind or None for the public link, responses)
GROUPS = [
    ("Siam", ChannelKind.KIOSK, 10),
    ("Siam", None, 5),
    ("Silom", ChannelKind.KIOSK, 12),
    ("Silom", ChannelKind.EMAIL, 8),
    ("Ari", ChannelKind.KIOSK, 3),
    (None, ChannelKind.EMAIL, 11),
    (None, None, 6),
]
# 22 en, 18 th, 12 he, 3 ja, dealt out of order (7 and 55 share no factor).
LANGUAGES = ["en"] * 22 + ["th"] * 18 + ["he"] * 12 + ["ja"] * 3


def seed_rows() -> list[dict]:
    rows, i = [], 0
    for store, kind, n in GROUPS:
        for _ in range(n):
            rows.append(
                {
                    "store": store,
                    "channel": kind or ChannelKind.LINK,
                    "language": LANGUAGES[(i * 7) % 55],
                    "day": START + dt.timedelta(days=(i * 5) % 63),
                    "nps": (i * 7) % 11,
                    "csat": None if i % 4 == 3 else 1 + (i * 3) % 5,
                    "stars": 1 + (i * 2) % 5 if i % 5 else None,
                }
            )
            i += 1
    return rows


ROWS = seed_rows()


def _nps(rows) -> float | None:
    scores = [r["nps"] for r in rows]
    promoters, detractors = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
    return round(100 * (promoters - detractors) / len(scores), 1) if len(scores) >= K else None


def _csat(rows) -> float | None:
    answers = [r["csat"] for r in rows if r["csat"] is not None]
    return (
        round(100 * sum(a >= 4 for a in answers) / len(answers), 1) if len(answers) >= K else None
    )


def _csat_mean(rows) -> float | None:
    answers = [r["csat"] for r in rows if r["csat"] is not None]
    return round(sum(answers) / len(answers), 2) if len(answers) >= K else None


def _stars(rows) -> float | None:
    answers = [r["stars"] for r in rows if r["stars"] is not None]
    return round(sum(answers) / len(answers), 2) if len(answers) >= K else None


def _per(key) -> dict:
    groups = defaultdict(list)
    for row in ROWS:
        groups[row[key]].append(row)
    return dict(groups)


# Suppression worked out by hand: ja (3) is small; the next-smallest language, he (12),
# goes with it (the total is shown). Ari's one cell (3) is small, so is Ari's row; the
# next-smallest store, Siam (15), goes with it, and with it its cells; every channel
# total (kiosk 25, email 19, link 11) stays.
HIDDEN_LANGUAGES = {"ja", "he"}
HIDDEN_STORES = {"Ari", "Siam"}


@pytest.fixture(params=["live", "folded"])
def seeded(request, organisation, community):
    organisation.min_group_size = K
    organisation.save(update_fields=["min_group_size"])
    survey = SurveyFactory(organisation=organisation, community=community)
    questions = {
        kind: QuestionFactory(survey=survey, type=kind, position=position)
        for position, kind in enumerate(
            (QuestionType.NPS, QuestionType.CSAT, QuestionType.STAR), start=1
        )
    }
    stores = {
        name: LocationFactory(organisation=organisation, name=name)
        for name in ("Siam", "Silom", "Ari")
    }
    channels: dict = {}
    for row in ROWS:
        channel = None
        if row["channel"] != ChannelKind.LINK:
            key = (row["store"], row["channel"])
            if key not in channels:
                channels[key] = ChannelFactory(
                    survey=survey,
                    kind=row["channel"],
                    location=stores.get(row["store"]),
                    device_token=f"kiosk-{len(channels)}"
                    if row["channel"] == ChannelKind.KIOSK
                    else None,
                )
            channel = channels[key]
        response = ResponseFactory(
            survey=survey,
            channel=channel,
            location=stores.get(row["store"]),
            language=row["language"],
            submitted_at=timezone.make_aware(dt.datetime.combine(row["day"], dt.time(12))),
            submitted_on=row["day"],
        )
        for kind, name in ((QuestionType.NPS, "nps"), (QuestionType.CSAT, "csat")):
            if row[name] is not None:
                AnswerFactory(response=response, question=questions[kind], number=row[name])
        if row["stars"] is not None:
            AnswerFactory(
                response=response, question=questions[QuestionType.STAR], number=row["stars"]
            )
    if request.param == "folded":
        rollups_fold_all()
    return survey


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


def _table(html: str, table_id: str, row_key: str) -> dict[str, list[str]]:
    """A table's rows by their data attribute: each cell's text (the header cell first)."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    rows = {}
    for key, inner in re.findall(rf'<tr {row_key}="([^"]*)"[^>]*>(.*?)</tr>', body, re.S):
        rows[key] = [_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", inner, re.S)]
    return rows


def _stat(html: str, stat_id: str) -> str:
    return _text(re.search(rf'id="{stat_id}"[^>]*>(.*?)</div>', html, re.S).group(1))


def _shown(value) -> str:
    return "–" if value is None else str(value)


def test_results_page_shows_every_hand_computed_figure(seeded, organisation, staff_client):
    # when the staff member opens the survey's results
    page = staff_client.get(
        reverse("staff:survey_results", args=[organisation.slug, seeded.pk])
    ).content.decode()
    # then the headline figures are the seed's
    assert _stat(page, "stat-responses") == "55"
    assert _stat(page, "stat-nps") == str(_nps(ROWS))
    assert _stat(page, "stat-csat") == str(_csat(ROWS))
    assert f"{_csat_mean(ROWS)} of 5" in _stat(page, "stat-csat-mean")
    assert _stat(page, "stat-stars") == str(_stars(ROWS))
    # and each language's row, the small ones hidden
    fewer = f"fewer than {K}"
    languages = _table(page, "language-table", "data-key")
    assert set(languages) == {"en", "th", "he", "ja"}
    for code, rows in _per("language").items():
        if code in HIDDEN_LANGUAGES:
            assert languages[code][1:] == [fewer]
        else:
            expected = [
                str(len(rows)),
                _shown(_nps(rows)),
                _shown(_csat(rows)),
                _shown(_stars(rows)),
            ]
            assert languages[code][1:] == expected
    # and each channel's row
    channels = _table(page, "channel-table", "data-key")
    for kind, rows in _per("channel").items():
        expected = [str(len(rows)), _shown(_nps(rows)), _shown(_csat(rows)), _shown(_stars(rows))]
        assert channels[kind][1:] == expected, kind
    # and each store's row: its channels, its total, its NPS and CSAT
    stores = _table(page, "store-table", "data-store")
    by_store = _per("store")
    assert set(stores) == {"Siam", "Silom", "Ari", "No store"}
    for name, rows in by_store.items():
        shown = stores[name or "No store"]
        per_channel = defaultdict(int)
        for row in rows:
            per_channel[row["channel"]] += 1
        if name in HIDDEN_STORES:
            assert shown[-3] == fewer and shown[-2:] == ["–", "–"]
            assert all(cell in (fewer, "0") for cell in shown[1:-3])
            assert shown[1:-3].count(fewer) == len(per_channel)
        else:
            assert shown[-3:] == [str(len(rows)), _shown(_nps(rows)), _shown(_csat(rows))]
            assert sorted(int(c) for c in shown[1:-3] if c != "0") == sorted(per_channel.values())


def test_results_api_gives_every_hand_computed_figure(seeded, organisation, staff_client):
    # when the results are asked for through the API
    body = staff_client.get(
        reverse("api:survey_results", args=[organisation.slug, seeded.pk])
    ).json()
    # then every figure is the seed's
    promoters = sum(r["nps"] >= 9 for r in ROWS)
    detractors = sum(r["nps"] <= 6 for r in ROWS)
    assert body["responses"] == 55 and not body["withheld"]
    assert body["nps"] == {
        "score": _nps(ROWS),
        "answers": 55,
        "promoters": promoters,
        "passives": 55 - promoters - detractors,
        "detractors": detractors,
    }
    assert body["csat"] == {"satisfied": _csat(ROWS), "mean": _csat_mean(ROWS)}
    assert body["stars"] == _stars(ROWS)
    languages = {cell["language"]: cell for cell in body["by_language"]}
    for code, rows in _per("language").items():
        hidden = code in HIDDEN_LANGUAGES
        assert languages[code]["suppressed"] is hidden
        assert languages[code]["responses"] == (None if hidden else len(rows))
        assert languages[code]["nps"] == (None if hidden else _nps(rows))
        assert languages[code]["csat"] == (None if hidden else _csat(rows))
        assert languages[code]["stars"] == (None if hidden else _stars(rows))
    channels = {cell["channel"]: cell for cell in body["by_channel"]}
    for kind, rows in _per("channel").items():
        assert channels[kind]["responses"] == len(rows) and not channels[kind]["suppressed"]
        assert (channels[kind]["nps"], channels[kind]["stars"]) == (_nps(rows), _stars(rows))
    stores = {row["store"]: row for row in body["by_store"]}
    for name, rows in _per("store").items():
        row = stores[name or "No store"]
        hidden = name in HIDDEN_STORES
        assert row["suppressed"] is hidden
        assert row["responses"] == (None if hidden else len(rows))
        assert row["nps"] == (None if hidden else _nps(rows))
    questions = {q["type"]: q for q in body["questions"]}
    nps_split = {cell["value"]: cell["count"] for cell in questions["nps"]["distribution"]}
    shown = {score: n for score, n in nps_split.items() if n is not None}
    for score, n in shown.items():
        assert n == sum(r["nps"] == score for r in ROWS)
    assert all(sum(r["nps"] == score for r in ROWS) < K or score in shown for score in range(11))
    assert questions["star"]["answers"] == sum(r["stars"] is not None for r in ROWS)


def test_csv_export_holds_every_response_with_the_seeded_answers(
    seeded, organisation, staff_client
):
    # when the responses are exported as CSV
    response = staff_client.get(
        reverse("staff:survey_export_csv", args=[organisation.slug, seeded.pk]),
        {"labels": "en"},
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    # then there is one row per response, and the answers give the seed's figures
    assert len(body) == 55
    columns = {name.split(".")[0]: i for i, name in enumerate(header) if name[:1].isdigit()}
    exported = [
        {
            "nps": int(row[columns["1"]]),
            "csat": int(row[columns["2"]]) if row[columns["2"]] else None,
            "stars": int(row[columns["3"]]) if row[columns["3"]] else None,
            "language": row[header.index("Language")],
        }
        for row in body
    ]
    assert (_nps(exported), _csat(exported), _csat_mean(exported), _stars(exported)) == (
        _nps(ROWS),
        _csat(ROWS),
        _csat_mean(ROWS),
        _stars(ROWS),
    )
    languages = defaultdict(int)
    for row in exported:
        languages[row["language"]] += 1
    assert dict(languages) == {code: len(rows) for code, rows in _per("language").items()}
