"""A seeded set of responses with text answers for the text answers and "responses behind a
figure" tests: every row is listed here, so a test computes what a page must show from
TEXT_ROWS alone. No models of its own: the surveys and feedback factories make the rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from surveys.choices import ChannelKind, QuestionType
from tests.factories.communities import LocationFactory, MemberFactory
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import (
    AnswerFactory,
    ChannelFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

K = 5
DAY = dt.date(2025, 3, 3)  # a Monday; the rows span two weeks from it


@dataclass(frozen=True)
class TextRow:
    store: str | None
    channel: str
    language: str
    nps: int
    stars: int
    text: str
    sentiment: float
    anonymous: bool = False
    case: bool = False


# Siam 8 (kiosk), Silom 6 (email), Ari 2 (kiosk), no store 4 (public link): Ari is under k,
# and the store-less group is the next-smallest, hidden beside it.
TEXT_ROWS: list[TextRow] = [
    *(
        TextRow("Siam", ChannelKind.KIOSK, "en", n, 1 + n % 5, text, s)
        for n, text, s in [
            (0, "The coffee was cold and the queue was long", -0.6),
            (2, "Cold coffee again, slow staff", -0.5),
            (4, "Queue too long", -0.4),
            (7, "Coffee fine, seats dirty", 0.0),
            (8, "Nice cake", 0.4),
            (9, "Great coffee and friendly staff", 0.8),
            (10, "Best latte in town", 0.9),
            (6, "<script>alert('x')</script> coffee & cake", -0.2),
        ]
    ),
    *(
        TextRow("Silom", ChannelKind.EMAIL, lang, n, 4, text, s)
        for lang, n, text, s in [
            ("th", 3, "กาแฟเย็นชืด พนักงานช้า", -0.7),
            ("th", 5, "กาแฟอร่อย แต่คิวยาว", 0.1),
            ("th", 9, "กาแฟอร่อยมาก พนักงานดี", 0.8),
            ("ja", 1, "コーヒーが冷たかった。店員が遅い。", -0.6),
            ("ja", 8, "コーヒーが美味しい。", 0.7),
            ("ja", 10, "コーヒーも店員も素晴らしい。", 0.9),
        ]
    ),
    TextRow("Ari", ChannelKind.KIOSK, "he", 1, 2, "הקפה היה קר מאוד", -0.8, case=True),
    TextRow("Ari", ChannelKind.KIOSK, "he", 9, 5, "קפה מצוין", 0.8),
    *(
        TextRow(None, ChannelKind.LINK, "en", n, 3, text, s, anonymous=anon, case=case)
        for n, text, s, anon, case in [
            (3, "Rude staff at the counter", -0.9, False, True),
            (6, "Coffee too bitter", -0.4, True, False),
            (8, "Okay coffee", 0.1, True, False),
            (10, "Lovely coffee", 0.9, False, False),
        ]
    ),
]


def text_seed(organisation, community, *, k: int = K) -> dict:
    """TEXT_ROWS as responses of one survey (NPS, stars and text questions); a member for
    every response that is not anonymous, and a case where the row says so."""
    organisation.min_group_size = k
    organisation.save(update_fields=["min_group_size"])
    survey = SurveyFactory(organisation=organisation, community=community, title={"en": "Visit"})
    nps = QuestionFactory(survey=survey, type=QuestionType.NPS, position=1)
    stars = QuestionFactory(survey=survey, type=QuestionType.STAR, position=2)
    text = QuestionFactory(survey=survey, type=QuestionType.TEXT, position=3)
    stores = {
        name: LocationFactory(organisation=organisation, name=name)
        for name in sorted({row.store for row in TEXT_ROWS if row.store})
    }
    channels = {}
    responses = []
    for index, row in enumerate(TEXT_ROWS):
        key = (row.store, row.channel)
        if key not in channels:
            channels[key] = ChannelFactory(
                survey=survey,
                kind=row.channel,
                location=stores.get(row.store),
                device_token=f"text-kiosk-{index}" if row.channel == ChannelKind.KIOSK else None,
            )
        day = DAY + dt.timedelta(days=index % 14)
        member = None if row.anonymous else MemberFactory(community=community)
        response = ResponseFactory(
            survey=survey,
            channel=channels[key],
            location=stores.get(row.store),
            language=row.language,
            member=member,
            is_anonymous=row.anonymous,
            submitted_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10, index))),
            submitted_on=day,
        )
        AnswerFactory(response=response, question=nps, number=row.nps)
        AnswerFactory(response=response, question=stars, number=row.stars)
        AnswerFactory(
            response=response, question=text, number=None, text=row.text, sentiment=row.sentiment
        )
        if row.case:
            CaseFactory(response=response)
        responses.append(response)
    return {"survey": survey, "stores": stores, "responses": responses}
