"""Migrate and seed the peer: signed-in users with sessions and the equivalent survey.

Run by bench/submit.py with the peer's virtualenv; prints the survey's field names as JSON.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402
from django.utils.text import slugify  # noqa: E402
from survey.models import Question, Survey  # noqa: E402

BATCH = 2000
SINGLE = ["Coffee to go", "Meeting a friend", "Working"]
MULTI = ["The coffee", "The staff", "The music", "The seats"]


def survey_create(label: str) -> dict:
    """NPS as a 0-10 radio, a single choice, a multi choice and a text question."""
    survey = Survey.objects.create(
        name=f"Bench survey ({label})",
        description="How was your visit?",
        is_published=True,
        # Like Chorus's identified survey: only signed-in users answer, once each.
        need_logged_user=True,
        display_method=Survey.ALL_IN_ONE_PAGE,
    )
    specs = [
        ("How likely are you to recommend us?", Question.RADIO, True, [str(n) for n in range(11)]),
        ("What brought you in today?", Question.RADIO, True, SINGLE),
        ("What did you enjoy?", Question.SELECT_MULTIPLE, True, MULTI),
        ("Anything else you would like to tell us?", Question.TEXT, False, []),
    ]
    fields = {"survey_id": survey.pk}
    for order, (text, qtype, required, choices) in enumerate(specs, start=1):
        question = Question.objects.create(
            survey=survey,
            text=text,
            order=order,
            required=required,
            type=qtype,
            choices=",".join(choices) if choices else None,
        )
        # The form's field values are the slugified choices (Question.get_choices).
        fields[f"q{order}"] = {
            "field": f"question_{question.pk}",
            "choices": [slugify(c, allow_unicode=True) for c in choices],
        }
    return fields


def users_with_sessions(count: int, sessions_out: Path) -> int:
    users = []
    for start in range(0, count, BATCH):
        users.extend(
            User.objects.bulk_create(
                User(username=f"bench{i:06d}", password=make_password(None))
                for i in range(start, min(count, start + BATCH))
            )
        )
    store = SessionStore()
    expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows = [
        Session(
            session_key=get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789"),
            session_data=store.encode(
                {
                    SESSION_KEY: str(user.pk),
                    BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: user.get_session_auth_hash(),
                }
            ),
            expire_date=expire,
        )
        for user in users
    ]
    Session.objects.bulk_create(rows, batch_size=BATCH)
    sessions_out.write_text("".join(f"sessionid={row.session_key}\n" for row in rows))
    return len(users)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=20000)
    parser.add_argument("--surveys", default="run")
    parser.add_argument("--sessions-out", type=Path, required=True)
    args = parser.parse_args()
    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        surveys = {label: survey_create(label) for label in args.surveys.split(",")}
        members = users_with_sessions(args.members, args.sessions_out)
    print(json.dumps({"members": members, "surveys": surveys}))


if __name__ == "__main__":
    main()
