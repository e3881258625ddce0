"""A seeded response set whose every export cell is known, for the export tests.

Organisation "Demo Coffee" in Asia/Bangkok (UTC+7) with a minimum group size k = 2; the
survey of tests/conftest.py (NPS, stars, single choice, multi choice, long text). Six
responses:

      store, channel     who                     lang NPS stars single multi        text
  R1  Siam, kiosk        Ann, consented          en   9   5     Coffee Coffee+Wi-Fi "Great coffee"
  R2  Siam, kiosk        anonymous               th   3   2     Cake   -            "=HYPERLINK(…)"
  R3  Siam, kiosk        Ben, no consent         en   7   4     -      Cake         -
  R4  Siam, public link  Cat, consent withdrawn  ja   10  5     Wi-Fi  -            -
  R5  Chiang Mai, kiosk  Dan, consented          he   0   1     Coffee -            "-awful"
  R6  no store, link     Eve, consented, left    en   8   -     -      Wi-Fi        "@home +1"

Siam has 4 responses (3 kiosk + 1 link): its link cell (1) is under k; Chiang Mai (1) is
under k. So R4 and R5 are exported without store, channel and time; the two hidden cells
hold 2 responses together, so nothing more is hidden (complementary suppression is met).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from communities.choices import ConsentPurpose, MemberStatus
from communities.models import Member
from surveys.choices import ChannelKind, QuestionType
from surveys.models import Response, Survey
from tests.factories.communities import ConsentRecordFactory, LocationFactory, MemberFactory
from tests.factories.surveys import AnswerFactory, ChannelFactory, ResponseFactory

UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Seeded:
    survey: Survey
    r: dict[int, Response]
    members: dict[str, Member]


def _at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def answers_give(response: Response, survey: Survey, **values) -> None:
    """nps=…, star=…, single="Coffee", multi=["Coffee"], text=("…", sentiment)."""
    questions = {q.type: q for q in survey.questions.all()}
    if "nps" in values:
        AnswerFactory(response=response, question=questions[QuestionType.NPS], number=values["nps"])
    if "star" in values:
        AnswerFactory(
            response=response, question=questions[QuestionType.STAR], number=values["star"]
        )
    for key, qtype in (
        ("single", QuestionType.SINGLE_CHOICE),
        ("multi", QuestionType.MULTI_CHOICE),
    ):
        if key in values:
            question = questions[qtype]
            labels = values[key] if isinstance(values[key], list) else [values[key]]
            answer = AnswerFactory(response=response, question=question, number=None)
            answer.choices.set([c for c in question.choices.all() if c.label["en"] in labels])
    if "text" in values:
        text, sentiment = values["text"]
        AnswerFactory(
            response=response,
            question=questions[QuestionType.TEXT],
            number=None,
            text=text,
            sentiment=sentiment,
        )


@pytest.fixture
def seeded(organisation, community, survey) -> Seeded:
    organisation.min_group_size = 2
    organisation.time_zone = "Asia/Bangkok"
    organisation.save()
    siam = LocationFactory(organisation=organisation, name="Siam")
    chiang_mai = LocationFactory(organisation=organisation, name="Chiang Mai")
    kiosk = ChannelFactory(
        survey=survey, kind=ChannelKind.KIOSK, location=siam, device_token="siam-kiosk"
    )
    kiosk_cm = ChannelFactory(
        survey=survey, kind=ChannelKind.KIOSK, location=chiang_mai, device_token="cm-kiosk"
    )
    link = ChannelFactory(survey=survey, kind=ChannelKind.LINK)

    def member(name: str, **kwargs):
        return MemberFactory(
            community=community, name=name, email=f"{name.lower()}@example.com", **kwargs
        )

    ann, ben, cat, dan = member("Ann"), member("Ben"), member("Cat"), member("Dan")
    eve = member("Eve", status=MemberStatus.UNSUBSCRIBED)
    # Cat agreed on the survey, then withdrew in the consent centre; then Dan was asked
    # again and agreed (his latest record is a grant).
    ConsentRecordFactory(
        member=cat, purpose=ConsentPurpose.CONTACT_FOLLOWUP, granted=True, recorded_at=_at(1, 0)
    )
    ConsentRecordFactory(
        member=cat,
        purpose=ConsentPurpose.CONTACT_FOLLOWUP,
        granted=False,
        recorded_at=_at(20, 9),
    )
    ConsentRecordFactory(
        member=dan, purpose=ConsentPurpose.CONTACT_FOLLOWUP, granted=False, recorded_at=_at(1, 1)
    )
    ConsentRecordFactory(
        member=dan, purpose=ConsentPurpose.CONTACT_FOLLOWUP, granted=True, recorded_at=_at(2, 1)
    )

    def response(at, **kwargs) -> Response:
        return ResponseFactory(survey=survey, submitted_at=at, **kwargs)

    r = {
        1: response(_at(1, 10), channel=kiosk, location=siam, member=ann, consent_to_contact=True),
        2: response(_at(2, 18, 30), channel=kiosk, location=siam, is_anonymous=True, language="th"),
        3: response(_at(3, 3), channel=kiosk, location=siam, member=ben),
        4: response(_at(4, 12), location=siam, member=cat, consent_to_contact=True, language="ja"),
        5: response(
            _at(5, 20),
            channel=kiosk_cm,
            location=chiang_mai,
            member=dan,
            consent_to_contact=True,
            language="he",
        ),
        6: response(_at(31, 23), channel=link, member=eve, consent_to_contact=True),
    }
    answers_give(
        r[1],
        survey,
        nps=9,
        star=5,
        single="Coffee",
        multi=["Coffee", "Wi-Fi"],
        text=("Great coffee", 0.8),
    )
    answers_give(r[2], survey, nps=3, star=2, single="Cake", text=('=HYPERLINK("http://x")', -0.5))
    answers_give(r[3], survey, nps=7, star=4, multi=["Cake"])
    answers_give(r[4], survey, nps=10, star=5, single="Wi-Fi")
    answers_give(r[5], survey, nps=0, star=1, single="Coffee", text=("-awful", -0.9))
    answers_give(r[6], survey, nps=8, multi=["Wi-Fi"], text=("@home +1", None))
    members = {"ann": ann, "ben": ben, "cat": cat, "dan": dan, "eve": eve}
    return Seeded(survey=survey, r=r, members=members)
