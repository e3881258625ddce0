"""Seed the page benchmark: one live survey with every question type, in four languages.

Also one member with a minted, signed-in session (as bench_seed does for the submit
benchmark), so the page can be fetched as a visitor and as a member. Prints JSON: the
survey's public id, each question's field name and wording per language, the member's
email and session cookie.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from bench.baseline.management.commands.bench_seed import members_create, sessions_mint
from communities.models import Community, Organisation
from surveys.choices import Anonymity, ChannelKind, QuestionType, SurveyStatus
from surveys.models import Channel, Choice, Question, Survey

LANGS = ["en", "th", "he", "ja"]
TITLE = {
    "en": "How was your visit to Bench Coffee?",
    "th": "การมาเยือน Bench Coffee ของคุณเป็นอย่างไร",
    "he": "איך היה הביקור שלך ב-Bench Coffee?",
    "ja": "Bench Coffee へのご来店はいかがでしたか？",
}
THANKS = {
    "en": "Thank you, see you soon!",
    "th": "ขอบคุณ แล้วพบกันใหม่!",
    "he": "תודה, נתראה בקרוב!",
    "ja": "ありがとうございました！",
}
VISIT = [
    {"en": "Coffee to go", "th": "กาแฟกลับบ้าน", "he": "קפה לדרך", "ja": "テイクアウト"},
    {"en": "Meeting a friend", "th": "นัดเพื่อน", "he": "פגישה עם חבר", "ja": "友人との待ち合わせ"},
    {"en": "Working", "th": "ทำงาน", "he": "עבודה", "ja": "仕事"},
]
LIKED = [
    {"en": "The coffee", "th": "กาแฟ", "he": "הקפה", "ja": "コーヒー"},
    {"en": "The staff", "th": "พนักงาน", "he": "הצוות", "ja": "スタッフ"},
    {"en": "The music", "th": "เพลง", "he": "המוזיקה", "ja": "音楽"},
    {"en": "The seats", "th": "ที่นั่ง", "he": "מקומות הישיבה", "ja": "座席"},
]
# (type, wording, required, choices, settings); every QuestionType appears once.
QUESTIONS: list[tuple[str, dict[str, str], bool, list[dict[str, str]], dict[str, Any]]] = [
    (
        QuestionType.NPS,
        {
            "en": "How likely are you to recommend Bench Coffee to a friend?",
            "th": "คุณมีแนวโน้มที่จะแนะนำ Bench Coffee ให้เพื่อนมากน้อยเพียงใด",
            "he": "מה הסיכוי שתמליצו על Bench Coffee לחבר?",
            "ja": "Bench Coffee を友人に勧める可能性はどのくらいありますか？",
        },
        True,
        [],
        {},
    ),
    (
        QuestionType.CSAT,
        {
            "en": "How satisfied are you with your visit?",
            "th": "คุณพอใจกับการมาเยือนครั้งนี้แค่ไหน",
            "he": "עד כמה אתם מרוצים מהביקור?",
            "ja": "今回のご来店にどの程度満足されましたか？",
        },
        True,
        [],
        {},
    ),
    (
        QuestionType.STAR,
        {
            "en": "How would you rate your coffee?",
            "th": "คุณให้คะแนนกาแฟของคุณเท่าไร",
            "he": "איך תדרגו את הקפה שלכם?",
            "ja": "コーヒーの評価をお願いします",
        },
        True,
        [],
        {},
    ),
    (
        QuestionType.RATING,
        {
            "en": "How quick was the service?",
            "th": "บริการรวดเร็วแค่ไหน",
            "he": "כמה מהיר היה השירות?",
            "ja": "サービスの速さはいかがでしたか？",
        },
        True,
        [],
        {
            "min": 1,
            "max": 7,
            "min_label": {"en": "Very slow", "th": "ช้ามาก", "he": "איטי מאוד", "ja": "とても遅い"},
            "max_label": {
                "en": "Very quick",
                "th": "เร็วมาก",
                "he": "מהיר מאוד",
                "ja": "とても速い",
            },
        },
    ),
    (
        QuestionType.YES_NO,
        {
            "en": "Did you find a seat easily?",
            "th": "คุณหาที่นั่งได้ง่ายไหม",
            "he": "מצאתם מקום ישיבה בקלות?",
            "ja": "席はすぐに見つかりましたか？",
        },
        True,
        [],
        {},
    ),
    (
        QuestionType.SINGLE_CHOICE,
        {
            "en": "What brought you in today?",
            "th": "วันนี้คุณมาเพราะอะไร",
            "he": "מה הביא אתכם היום?",
            "ja": "本日のご来店の目的は？",
        },
        False,
        VISIT,
        {"other": True},
    ),
    (
        QuestionType.MULTI_CHOICE,
        {
            "en": "What did you enjoy?",
            "th": "คุณชอบอะไรบ้าง",
            "he": "ממה נהניתם?",
            "ja": "良かった点を教えてください",
        },
        False,
        LIKED,
        {},
    ),
    (
        QuestionType.SHORT_TEXT,
        {
            "en": "Which drink did you order?",
            "th": "คุณสั่งเครื่องดื่มอะไร",
            "he": "איזה משקה הזמנתם?",
            "ja": "ご注文のドリンクは何でしたか？",
        },
        False,
        [],
        {},
    ),
    (
        QuestionType.TEXT,
        {
            "en": "What should we do better?",
            "th": "เราควรปรับปรุงอะไรบ้าง",
            "he": "מה כדאי לנו לשפר?",
            "ja": "改善すべき点を教えてください",
        },
        False,
        [],
        # Shown only to detractors: the page carries the rule for respond.js.
        {"show_if": {"question": "__NPS__", "op": "lte", "value": 6}},
    ),
]


class Command(BaseCommand):
    help = "Seed the page benchmark (a survey with every question type, one member); JSON."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.objects.create(name="Bench Coffee", slug="bench-coffee")
        community = Community.objects.create(organisation=org, name="Bench", slug="bench")
        survey = Survey.objects.create(
            organisation=org,
            community=community,
            title=TITLE,
            status=SurveyStatus.LIVE,
            anonymity=Anonymity.RESPONDENT_CHOICE,
            points=10,
            languages=LANGS,
            thank_you=THANKS,
        )
        Channel.objects.create(organisation=org, survey=survey, kind=ChannelKind.LINK)
        questions = []
        nps_pk = None
        for position, (qtype, text, required, choices, qsettings) in enumerate(QUESTIONS, 1):
            if "show_if" in qsettings:
                qsettings = {**qsettings, "show_if": {**qsettings["show_if"], "question": nps_pk}}
            question = Question.objects.create(
                organisation=org,
                survey=survey,
                position=position,
                type=qtype,
                text=text,
                required=required,
                settings=qsettings,
            )
            nps_pk = question.pk if qtype == QuestionType.NPS else nps_pk
            for cpos, label in enumerate(choices, start=1):
                Choice.objects.create(
                    organisation=org, question=question, position=cpos, label=label
                )
            questions.append(
                {
                    "type": str(qtype),
                    "field": f"q_{question.pk}",
                    "text": text,
                    "choices": [c["en"] for c in choices],
                }
            )
        (user,) = members_create(org=org, community=community, count=1)
        (key,) = sessions_mint(users=[user])
        self.stdout.write(
            json.dumps(
                {
                    "public_id": survey.public_id,
                    "title": TITLE,
                    "languages": LANGS,
                    "questions": questions,
                    "member": {
                        "email": user.email,
                        "cookie": f"{settings.SESSION_COOKIE_NAME}={key}",
                    },
                }
            )
        )
