"""Load the demo organisation: idempotent, so `make demo` can run it every time."""

import random
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from communities.choices import AttributeKind, ConsentChannel, ConsentPurpose, MemberStatus, Role
from communities.models import (
    AttributeDefinition,
    Community,
    Location,
    Member,
    Organisation,
    Segment,
    StaffRole,
    User,
)
from communities.outbox.models import OutboundEmail
from communities.services import consent_record, members_lifecycle_refresh, referral_code_new
from rewards.demo import rewards_demo_seed
from surveys.choices import Anonymity, ChannelKind, QuestionType, SurveyKind, SurveyStatus
from surveys.models import Channel, Choice, Question, Response, Survey, SurveyInvitation
from surveys.services.builder import question_add, survey_create, survey_publish
from surveys.services.kiosks import kiosk_register
from surveys.services.responses import response_submit
from surveys.services.writing import organisation_day

STAFF_EMAIL = "owner@demo-coffee.example"
STAFF_PASSWORD = "chorus-demo-2026"  # noqa: S105 - printed for the local demo only
# Someone invited "a day ago" who has not answered: the reminder to them falls due this
# long after the seed, so the demo's worker sends one within a minute of starting.
REMINDER_EMAIL = "dana@example.com"
REMINDER_DUE_AFTER = timedelta(seconds=20)

LANGS = ("en", "th", "he", "ja")
POLL = {
    "title": {
        "en": "Oat milk poll",
        "th": "โพลนมข้าวโอ๊ต",
        "he": "סקר חלב שיבולת שועל",
        "ja": "オーツミルク投票",
    },
    "question": {
        "en": "Should we add oat milk to every drink?",
        "th": "เราควรมีตัวเลือกนมข้าวโอ๊ตสำหรับทุกเครื่องดื่มไหม",
        "he": "להוסיף חלב שיבולת שועל לכל המשקאות?",
        "ja": "すべてのドリンクでオーツミルクを選べるようにすべきですか？",
    },
    "choices": [
        {"en": "Yes, please", "th": "ใช่ ต้องการ", "he": "כן, בבקשה", "ja": "はい、ぜひ"},
        {"en": "No, thanks", "th": "ไม่ ขอบคุณ", "he": "לא, תודה", "ja": "いいえ、結構です"},
        {"en": "I don't mind", "th": "อย่างไรก็ได้", "he": "לא משנה לי", "ja": "どちらでもよい"},
    ],
}
AGE_BANDS = [
    {"value": "18-24", "label": {"en": "18–24", "th": "18–24 ปี", "he": "18–24", "ja": "18〜24歳"}},
    {"value": "25-34", "label": {"en": "25–34", "th": "25–34 ปี", "he": "25–34", "ja": "25〜34歳"}},
    {"value": "35-49", "label": {"en": "35–49", "th": "35–49 ปี", "he": "35–49", "ja": "35〜49歳"}},
    {
        "value": "50+",
        "label": {"en": "50 or over", "th": "50 ปีขึ้นไป", "he": "50 ומעלה", "ja": "50歳以上"},
    },
]
CITIES = [
    {
        "value": "bangkok",
        "label": {"en": "Bangkok", "th": "กรุงเทพฯ", "he": "בנגקוק", "ja": "バンコク"},
    },
    {
        "value": "tel-aviv",
        "label": {"en": "Tel Aviv", "th": "เทลอาวีฟ", "he": "תל אביב", "ja": "テルアビブ"},
    },
    {"value": "tokyo", "label": {"en": "Tokyo", "th": "โตเกียว", "he": "טוקיו", "ja": "東京"}},
    {
        "value": "london",
        "label": {"en": "London", "th": "ลอนดอน", "he": "לונדון", "ja": "ロンドン"},
    },
]
T = {
    "title": {
        "en": "How was your visit to Demo Coffee?",
        "th": "การมาเยือน Demo Coffee ของคุณเป็นอย่างไร",
        "he": "איך היה הביקור שלך ב-Demo Coffee?",
        "ja": "Demo Coffee へのご来店はいかがでしたか？",
    },
    "nps": {
        "en": "How likely are you to recommend Demo Coffee to a friend?",
        "th": "คุณมีแนวโน้มที่จะแนะนำ Demo Coffee ให้เพื่อนมากน้อยเพียงใด",
        "he": "מה הסיכוי שתמליצו על Demo Coffee לחבר?",
        "ja": "Demo Coffee を友人に勧める可能性はどのくらいありますか？",
    },
    "star": {
        "en": "How would you rate your coffee?",
        "th": "คุณให้คะแนนกาแฟของคุณเท่าไร",
        "he": "איך תדרגו את הקפה שלכם?",
        "ja": "コーヒーの評価をお願いします",
    },
    "visit": {
        "en": "What brought you in today?",
        "th": "วันนี้คุณมาเพราะอะไร",
        "he": "מה הביא אתכם היום?",
        "ja": "本日のご来店の目的は？",
    },
    "liked": {
        "en": "What did you enjoy?",
        "th": "คุณชอบอะไรบ้าง",
        "he": "ממה נהניתם?",
        "ja": "良かった点を教えてください",
    },
    "text": {
        "en": "Anything else you would like to tell us?",
        "th": "มีอะไรอยากบอกเราอีกไหม",
        "he": "יש עוד משהו שתרצו לספר לנו?",
        "ja": "その他ご意見があればお聞かせください",
    },
    "thanks": {
        "en": "Thank you — see you soon!",
        "th": "ขอบคุณ แล้วพบกันใหม่!",
        "he": "תודה, נתראה בקרוב!",
        "ja": "ありがとうございました。またのご来店をお待ちしております！",
    },
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
    {"en": "The seats", "th": "ที่นั่ง", "he": "המקומות ישיבה", "ja": "座席"},
]
TEXTS = {
    "en": [
        "Great coffee and friendly staff!",
        "The wait was terrible and the cup was cold.",
        "Lovely place, I will come back.",
        "Rude cashier, awful experience.",
        "",
    ],
    "th": ["กาแฟอร่อยมาก พนักงานน่ารัก", "รอนานมาก กาแฟเย็นชืด", ""],
    "he": ["קפה מצוין ושירות נהדר", "המתנה ארוכה מדי והקפה היה קר", ""],
    "ja": ["コーヒーがとても美味しかったです", "待ち時間が長すぎました", ""],
}


class Command(BaseCommand):
    help = "Create the Demo Coffee organisation with a survey and sample responses (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--responses", type=int, default=300)
        parser.add_argument(
            "--summary",
            type=Path,
            help="Also write the demo's addresses and login to this file (make demo prints "
            "it again once everything has started).",
        )

    def handle(self, *args, responses: int, summary: Path | None = None, **options):
        lines = self._seed(responses=responses)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for line in lines:
            self.stdout.write(line)
        if summary is not None:
            summary.parent.mkdir(parents=True, exist_ok=True)
            summary.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @transaction.atomic
    def _seed(self, *, responses: int) -> list[str]:
        org, _ = Organisation.objects.get_or_create(
            slug="demo-coffee", defaults={"name": "Demo Coffee", "brand_colour": "#6f4e37"}
        )
        user = User.objects.filter(email=STAFF_EMAIL).first()
        if user is None:
            user = User.objects.create_user(STAFF_EMAIL, STAFF_PASSWORD, name="Demo Owner")
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=user, email=STAFF_EMAIL, defaults={"verified": True, "primary": True}
        )
        StaffRole.objects.get_or_create(user=user, organisation=org, defaults={"role": Role.OWNER})
        community, _ = Community.objects.get_or_create(
            organisation=org,
            slug="regulars",
            defaults={
                "name": "Demo Coffee Regulars",
                "description": "Our regular customers, who help us get better.",
                "consent_text": "I agree to the community terms.",
                "privacy_policy_text": "We keep your answers to improve our shops.",
            },
        )
        location, _ = Location.objects.get_or_create(
            organisation=org, code="BKK-01", defaults={"name": "Bangkok Siam"}
        )
        self._attributes(org, community)
        survey = Survey.objects.filter(organisation=org, title__en=T["title"]["en"]).first()
        if survey is None:
            survey = self._survey(org, community)
        Channel.objects.get_or_create(
            survey=survey, kind=ChannelKind.LINK, defaults={"organisation": org}
        )
        existing = Response.objects.filter(survey=survey).count()
        if existing < responses:
            self._responses(org, community, survey, location, responses - existing)
        poll = Survey.objects.filter(organisation=org, title__en=POLL["title"]["en"]).first()
        if poll is None:
            poll = survey_create(
                organisation=org,
                community=community,
                kind=SurveyKind.POLL,
                title=POLL["title"],
                languages=list(LANGS),
            )
            question_add(
                survey=poll, type="single_choice", text=POLL["question"], choices=POLL["choices"]
            )
            poll.points = 2
            poll.save(update_fields=["points"])
            survey_publish(survey=poll)
        kiosk = Channel.objects.filter(
            survey=survey, kind=ChannelKind.KIOSK, location=location
        ).first() or kiosk_register(survey=survey, location=location)
        self._reminder_due(survey)
        members_lifecycle_refresh()
        # Rewards: a catalogue, earning rules, tiers and a year of points with redemptions.
        rewards_demo_seed(
            organisation=org,
            community=community,
            members=list(Member.objects.filter(community=community).order_by("pk")),
            now=timezone.now(),
            actor=user,
        )
        url = f"/s/{survey.public_id}/"
        site = settings.SITE_URL.rstrip("/")
        home = f"/c/{org.slug}/{community.slug}/"
        lines = [f"  Survey (public link):  {site}{url}"]
        lines += [f"    in {lang}: {site}{url}?lang={lang}" for lang in LANGS[1:]]
        lines += [
            f"  Community home (poll): {site}{home}",
            f"  Join the community:    {site}{home}join/",
            f"  Store kiosk (tablet):  {site}/k/{kiosk.device_token}/",
            f"  Staff pages:           {site}/staff/",
            f"  Rewards overview:      {site}/staff/{org.slug}/rewards/overview/",
            f"  Staff login:           {STAFF_EMAIL} / {STAFF_PASSWORD}",
        ]
        if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
            lines.append(f"  Emails (one file per send): {settings.EMAIL_FILE_PATH}/")
        lines.append(
            f"  A reminder to {REMINDER_EMAIL} falls due "
            f"{int(REMINDER_DUE_AFTER.total_seconds())} s after this seed "
            "(sent when a worker and beat run)."
        )
        return lines

    def _reminder_due(self, survey: Survey) -> None:
        """An unanswered invitation whose first reminder falls due in a few seconds.

        Reminders are whole days apart, so the invitation is dated back one interval
        (the shortest the survey allows). Each seed starts it afresh, with its old emails
        gone, so every `make demo` shows a reminder being sent.
        """
        survey.reminder_interval_days = 1
        survey.save(update_fields=["reminder_interval_days"])
        SurveyInvitation.objects.filter(survey=survey, email=REMINDER_EMAIL).delete()
        OutboundEmail.objects.filter(
            organisation=survey.organisation, to_email=REMINDER_EMAIL
        ).delete()
        channel, _ = Channel.objects.get_or_create(
            survey=survey, kind=ChannelKind.EMAIL, defaults={"organisation": survey.organisation}
        )
        sent = timezone.now() - timedelta(days=survey.reminder_interval_days) + REMINDER_DUE_AFTER
        SurveyInvitation.objects.create(
            organisation=survey.organisation,
            survey=survey,
            channel=channel,
            email=REMINDER_EMAIL,
            name="Dana",
            language="en",
            sent_at=sent,
        )

    def _attributes(self, org, community) -> None:
        """Demographics asked on the join page, and a saved segment over them."""
        specs = [
            (
                "age_band",
                {"en": "Age band", "th": "ช่วงอายุ", "he": "קבוצת גיל", "ja": "年齢層"},
                AGE_BANDS,
            ),
            ("city", {"en": "City", "th": "เมือง", "he": "עיר", "ja": "都市"}, CITIES),
        ]
        for position, (key, label, options) in enumerate(specs, start=1):
            AttributeDefinition.objects.get_or_create(
                community=community,
                key=key,
                defaults={
                    "organisation": org,
                    "label": label,
                    "kind": AttributeKind.CHOICE,
                    "options": options,
                    "ask_on_join": True,
                    "position": position,
                },
            )
        Segment.objects.get_or_create(
            community=community,
            name="Young Bangkok regulars",
            defaults={
                "organisation": org,
                "filter": {
                    "status": [MemberStatus.NEW, MemberStatus.ACTIVE],
                    "attributes": {
                        "city": {"in": ["bangkok"]},
                        "age_band": {"in": ["18-24", "25-34"]},
                    },
                },
            },
        )

    def _survey(self, org, community) -> Survey:
        survey = Survey.objects.create(
            organisation=org,
            community=community,
            title=T["title"],
            status=SurveyStatus.LIVE,
            anonymity=Anonymity.RESPONDENT_CHOICE,
            points=50,
            languages=list(LANGS),
            thank_you=T["thanks"],
        )
        specs = [
            (QuestionType.NPS, "nps", True, None),
            (QuestionType.STAR, "star", True, None),
            (QuestionType.SINGLE_CHOICE, "visit", False, VISIT),
            (QuestionType.MULTI_CHOICE, "liked", False, LIKED),
            (QuestionType.TEXT, "text", False, None),
        ]
        for position, (qtype, key, required, choices) in enumerate(specs, start=1):
            q = Question.objects.create(
                organisation=org,
                survey=survey,
                position=position,
                type=qtype,
                text=T[key],
                required=required,
            )
            for cpos, label in enumerate(choices or [], start=1):
                Choice.objects.create(organisation=org, question=q, position=cpos, label=label)
        return survey

    def _responses(self, org, community, survey, location, count: int) -> None:
        rng = random.Random(2026)
        questions = list(survey.questions.prefetch_related("choices"))
        now = timezone.now()
        for i in range(count):
            lang = LANGS[i % 4]
            detractor = rng.random() < 0.3
            nps = rng.randint(0, 6) if detractor else rng.randint(7, 10)
            raw = {}
            for q in questions:
                name = f"q_{q.pk}"
                choices = [c.pk for c in q.choices.all()]
                if q.type == QuestionType.NPS:
                    raw[name] = nps
                elif q.type == QuestionType.STAR:
                    raw[name] = rng.randint(1, 2) if detractor else rng.randint(3, 5)
                elif q.type == QuestionType.SINGLE_CHOICE:
                    raw[name] = rng.choice(choices)
                elif q.type == QuestionType.MULTI_CHOICE:
                    raw[name] = rng.sample(choices, rng.randint(1, 2))
                else:
                    raw[name] = rng.choice(TEXTS[lang])
            member = None
            if i % 3 == 0:
                joined = now - timedelta(days=rng.randint(0, 400))
                member = Member.objects.create(
                    organisation=org,
                    community=community,
                    email=f"member{uuid.uuid4().hex[:10]}@example.com",
                    name=f"Member {i}",
                    locale=lang,
                    status=MemberStatus.ACTIVE,
                    joined_at=joined,
                    confirmed_at=joined,
                    referral_code=referral_code_new(),
                    attributes={
                        "age_band": rng.choice(AGE_BANDS)["value"],
                        "city": rng.choice(CITIES)["value"],
                    },
                )
                consent_record(
                    member=member,
                    purpose=ConsentPurpose.COMMUNITY_TERMS,
                    granted=True,
                    channel=ConsentChannel.WEB,
                )
            result = response_submit(
                survey=survey,
                raw_answers=raw,
                idempotency_key=f"demo-{uuid.uuid4().hex}",
                language=lang,
                member=member,
                location=location,
                consent_to_contact=member is not None and rng.random() < 0.5,
                questions=questions,
            )
            # Spread the sample over the past year so trends have something to show.
            when = now - timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 1440))
            Response.objects.filter(pk=result.response.pk).update(
                submitted_at=when,
                submitted_on=organisation_day(organisation=survey.organisation, at=when),
            )
            if member is not None:
                Member.objects.filter(pk=member.pk).update(last_active_at=max(when, joined))
