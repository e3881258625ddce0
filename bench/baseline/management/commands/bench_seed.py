"""Seed the submit benchmark: one organisation, N signed-in members, surveys to answer.

Writes one `sessionid=<key>` line per member to --sessions-out, so the load generator
can send every request as a different signed-in member (a member answers a survey
once), and prints the surveys' field names as JSON for the request bodies. Each
--kiosk-surveys label is a survey of the same questions answered by --kiosks kiosks of one
store (registered through `surveys.services.kiosk_register`); their device tokens are in
the JSON. With --history N, a survey of the same questions already holds N answers from the
year before (bench.baseline.history), so the run measures tables of that size.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from bench.baseline.history import history_seed
from communities.choices import MemberStatus
from communities.models import Community, Location, Member, Organisation, User, UserSession
from surveys.choices import Anonymity, ChannelKind, QuestionType, SurveyStatus
from surveys.models import Channel, Choice, Question, Survey
from surveys.services import kiosk_register

BATCH = 2000
SESSION_KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
SINGLE = ["Coffee to go", "Meeting a friend", "Working"]
MULTI = ["The coffee", "The staff", "The music", "The seats"]
# The benchmark survey: NPS, single choice, multi choice and text, like the peer's.
# Each question: (type, English text, required, English choice labels).
SPECS = [
    (QuestionType.NPS, "How likely are you to recommend us?", True, []),
    (QuestionType.SINGLE_CHOICE, "What brought you in today?", True, SINGLE),
    (QuestionType.MULTI_CHOICE, "What did you enjoy?", True, MULTI),
    (QuestionType.TEXT, "Anything else you would like to tell us?", False, []),
]


def survey_create(
    *,
    org: Organisation,
    community: Community,
    title: str,
    specs: list[tuple[str, str, bool, list[str]]],
    **extra: Any,
) -> Survey:
    """A live, identified English survey with a link channel and one question per spec."""
    survey = Survey.objects.create(
        organisation=org,
        community=community,
        title={"en": title},
        status=SurveyStatus.LIVE,
        anonymity=Anonymity.IDENTIFIED,
        languages=["en"],
        thank_you={"en": "Thank you!"},
        **extra,
    )
    Channel.objects.create(organisation=org, survey=survey, kind=ChannelKind.LINK)
    for position, (qtype, text, required, labels) in enumerate(specs, start=1):
        question = Question.objects.create(
            organisation=org,
            survey=survey,
            position=position,
            type=qtype,
            text={"en": text},
            required=required,
        )
        for cpos, choice in enumerate(labels, start=1):
            Choice.objects.create(
                organisation=org, question=question, position=cpos, label={"en": choice}
            )
    return survey


def question_fields(survey: Survey) -> dict[str, Any]:
    """Field names and choice ids the request bodies need, by question type."""
    return {
        question.type: {
            "field": f"q_{question.pk}",
            "choices": [c.pk for c in question.choices.all()],
        }
        for question in survey.questions.prefetch_related("choices")
    }


def survey_fields(survey: Survey) -> dict[str, Any]:
    return {
        "public_id": survey.public_id,
        "pk": survey.pk,
        "points": survey.points,
        **question_fields(survey),
    }


def members_create(*, org: Organisation, community: Community, count: int) -> list[User]:
    """Users with their memberships, in bulk: the model factories would take minutes."""
    users: list[User] = []
    for start in range(0, count, BATCH):
        batch = [
            # An unusable password is enough: a session's auth hash is an HMAC of the
            # password field, and hashing a real password 20,000 times takes minutes.
            User(email=f"bench-{i:06d}@example.com", password=make_password(None), name=f"B {i}")
            for i in range(start, min(count, start + BATCH))
        ]
        users.extend(User.objects.bulk_create(batch))
    members_join(org=org, community=community, users=users)
    return users


def members_join(*, org: Organisation, community: Community, users: list[User]) -> None:
    """Active memberships of `community` for `users`, in bulk."""
    now = timezone.now()
    Member.objects.bulk_create(
        (
            Member(
                organisation=org,
                community=community,
                user=user,
                email=user.email,
                name=user.name,
                locale="en",
                status=MemberStatus.ACTIVE,
                joined_at=now,
            )
            for user in users
        ),
        batch_size=BATCH,
    )


def sessions_mint(*, users: list[User]) -> list[str]:
    """One signed-in session per user, as Django's login() would store it."""
    store = SessionStore()
    expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows = []
    for user in users:
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(
            UserSession(
                session_key=get_random_string(32, SESSION_KEY_CHARS),
                session_data=store.encode(data),
                expire_date=expire,
                user_id=user.pk,
            )
        )
    UserSession.objects.bulk_create(rows, batch_size=BATCH)
    return [row.session_key for row in rows]


class Command(BaseCommand):
    help = "Seed the submit benchmark (members with sessions, surveys); prints JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=20000)
        parser.add_argument("--surveys", default="run", help="comma-separated labels")
        parser.add_argument("--points", type=int, default=10)
        parser.add_argument("--sessions-out", required=True)
        parser.add_argument("--kiosk-surveys", default="", help="comma-separated labels")
        parser.add_argument("--kiosks", type=int, default=8, help="kiosks per kiosk survey")
        parser.add_argument(
            "--history", type=int, default=0, help="answers already stored, to a survey of its own"
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.objects.create(name="Bench Coffee", slug="bench-coffee")
        community = Community.objects.create(organisation=org, name="Bench", slug="bench")
        surveys = {
            label: survey_fields(
                survey_create(
                    org=org,
                    community=community,
                    title=f"Bench survey ({label})",
                    specs=SPECS,
                    points=options["points"],
                )
            )
            for label in options["surveys"].split(",")
            if label
        }
        kiosk_labels = [label for label in options["kiosk_surveys"].split(",") if label]
        if kiosk_labels:
            store = Location.objects.create(
                organisation=org, name="Main Street", code="main-street", language="en"
            )
        for label in kiosk_labels:
            survey = survey_create(
                org=org,
                community=community,
                title=f"Bench kiosk survey ({label})",
                specs=SPECS,
                points=options["points"],
            )
            kiosks = [
                kiosk_register(survey=survey, location=store) for _ in range(options["kiosks"])
            ]
            surveys[label] = {
                **survey_fields(survey),
                "location_id": store.pk,
                "channel_ids": [k.pk for k in kiosks],
                "device_tokens": [k.device_token for k in kiosks],
            }
        users = members_create(org=org, community=community, count=options["members"])
        keys = sessions_mint(users=users)
        Path(options["sessions_out"]).write_text(
            "".join(f"{settings.SESSION_COOKIE_NAME}={key}\n" for key in keys)
        )
        history = {}
        if options["history"] > 0:
            # Last: on PostgreSQL it ends with ANALYZE, which then sees every table seeded.
            past = survey_create(
                org=org, community=community, title="Bench history", specs=SPECS, points=0
            )
            history = history_seed(survey=past, count=options["history"])
        self.stdout.write(
            json.dumps({"members": len(users), "surveys": surveys, "history": history})
        )
