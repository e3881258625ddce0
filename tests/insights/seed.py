"""A seeded response set with known answers, and the figures it implies computed here from
the seed alone (never through surveys.metrics), for the dashboard tests."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from surveys.choices import ChannelKind, QuestionType
from tests.factories.communities import LocationFactory
from tests.factories.surveys import (
    AnswerFactory,
    ChannelFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

K = 5
END = dt.date(2025, 3, 30)  # a Sunday: the 63 days before it are nine whole weeks
START = END - dt.timedelta(days=62)

# (store or None, channel kind or None for the public link, how many responses)
GROUPS = [
    ("Bangkok Siam", ChannelKind.KIOSK, 4),
    ("Bangkok Siam", ChannelKind.LINK, 3),
    ("Silom", ChannelKind.KIOSK, 12),
    ("Ari", ChannelKind.KIOSK, 3),
    # The next-smallest store: hidden beside Ari, so the grand total gives neither away.
    ("Thonglor", ChannelKind.KIOSK, 5),
    ("Chiang Mai", ChannelKind.KIOSK, 6),
    ("Chiang Mai", ChannelKind.EMAIL, 5),
    (None, ChannelKind.EMAIL, 8),
    (None, None, 6),
]
LANGUAGES = ("en", "th", "he", "ja")


def seed_rows() -> list[dict]:
    """One dict per response: store, channel, language, day, nps, csat, stars (or None)."""
    rows = []
    i = 0
    for store, kind, n in GROUPS:
        for _ in range(n):
            rows.append(
                {
                    "store": store,
                    "channel": kind,
                    "language": LANGUAGES[i % 4] if i % 3 else "en",
                    "day": START + dt.timedelta(days=(i * 5) % 63),
                    "nps": (i * 7) % 11,
                    "csat": None if i % 4 == 3 else 1 + (i * 3) % 5,
                    "stars": 1 + (i * 2) % 5 if i % 5 else None,
                }
            )
            i += 1
    return rows


def seed(organisation, community):
    """The rows as responses of two surveys of the organisation."""
    organisation.min_group_size = K
    organisation.save(update_fields=["min_group_size"])
    surveys = [
        SurveyFactory(organisation=organisation, community=community, title={"en": title})
        for title in ("Coffee survey", "Service survey")
    ]
    questions = {
        survey.pk: {
            kind: QuestionFactory(survey=survey, type=kind)
            for kind in (QuestionType.NPS, QuestionType.CSAT, QuestionType.STAR)
        }
        for survey in surveys
    }
    stores = {
        name: LocationFactory(organisation=organisation, name=name)
        for name in {g[0] for g in GROUPS if g[0]}
    }
    channels: dict = {}
    for index, row in enumerate(seed_rows()):
        survey = surveys[index % 2]
        channel = None
        if row["channel"] is not None:
            key = (survey.pk, row["store"], row["channel"])
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
        at = timezone.make_aware(dt.datetime.combine(row["day"], dt.time(12)))
        response = ResponseFactory(
            survey=survey,
            channel=channel,
            location=stores.get(row["store"]),
            language=row["language"],
            submitted_at=at,
            submitted_on=row["day"],
        )
        for kind in (QuestionType.NPS, QuestionType.CSAT, QuestionType.STAR):
            value = row[{"nps": "nps", "csat": "csat", "star": "stars"}[kind]]
            if value is not None:
                AnswerFactory(response=response, question=questions[survey.pk][kind], number=value)
    return surveys, stores


def nps(rows) -> float | None:
    scores = [r["nps"] for r in rows]
    if not scores:
        return None
    return round(100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores), 1)


def csat(rows) -> float | None:
    answers = [r["csat"] for r in rows if r["csat"] is not None]
    return round(100 * sum(a >= 4 for a in answers) / len(answers), 1) if answers else None


def stars(rows) -> float | None:
    answers = [r["stars"] for r in rows if r["stars"] is not None]
    return round(sum(answers) / len(answers), 2) if answers else None


def per(rows, key) -> dict:
    groups = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return dict(groups)
