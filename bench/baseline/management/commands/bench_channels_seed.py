"""Seed the channels benchmark: kiosks on live surveys, and a staff user who sends invitations.

* Kiosks: one organisation with a store (a `Location`) and, per label, a live survey (NPS,
  stars, single choice, long text) with a kiosk registered through
  `surveys.services.kiosk_register`, so every figure answers its own empty survey.
* Invitations: a second organisation with a live survey whose first question is an NPS
  (so the invitation email carries the eleven one-tap score links), and a staff user who
  owns it, signed in with a minted session (as `bench_seed` mints the members').

Prints JSON: each kiosk's device token, channel, location and the surveys' field names, and
the invitation survey, organisation slug and staff session cookie.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from bench.baseline.management.commands.bench_seed import (
    question_fields,
    sessions_mint,
    survey_create,
)
from communities.choices import Role
from communities.models import Community, Location, Organisation, StaffRole, User
from surveys.choices import QuestionType
from surveys.models import Survey
from surveys.services import kiosk_register

VISIT = ["Coffee to go", "Meeting a friend", "Working"]
SPECS = [
    (QuestionType.NPS, "How likely are you to recommend us?", True, []),
    (QuestionType.STAR, "How would you rate your coffee?", True, []),
    (QuestionType.SINGLE_CHOICE, "What brought you in today?", True, VISIT),
    (QuestionType.TEXT, "Anything else you would like to tell us?", False, []),
]


def fields_of(survey: Survey) -> dict[str, Any]:
    return {"survey_pk": survey.pk, "public_id": survey.public_id, **question_fields(survey)}


class Command(BaseCommand):
    help = "Seed the channels benchmark (kiosks, an invitation survey, a staff owner); JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kiosks", default="run", help="comma-separated labels")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.objects.create(name="Bench Kiosk Coffee", slug="bench-kiosk")
        community = Community.objects.create(organisation=org, name="Walk-ins", slug="walk-ins")
        location = Location.objects.create(
            organisation=org, name="Main Street", code="main-street", language="en"
        )
        kiosks = {}
        for label in options["kiosks"].split(","):
            survey = survey_create(
                org=org, community=community, title=f"Kiosk survey ({label})", specs=SPECS
            )
            channel = kiosk_register(survey=survey, location=location)
            kiosks[label] = {
                **fields_of(survey),
                "channel_id": channel.pk,
                "device_token": channel.device_token,
                "location_id": location.pk,
            }

        org2 = Organisation.objects.create(name="Bench Invites", slug="bench-invites")
        community2 = Community.objects.create(organisation=org2, name="Guests", slug="guests")
        survey = survey_create(
            org=org2, community=community2, title="How was your stay?", specs=SPECS
        )
        staff = User.objects.create(
            email="bench-owner@example.com", password=make_password(None), name="Bench Owner"
        )
        StaffRole.objects.create(user=staff, organisation=org2, role=Role.OWNER)
        (session_key,) = sessions_mint(users=[staff])
        invite = {
            **fields_of(survey),
            "org_slug": org2.slug,
            "organisation_id": org2.pk,
            "session_cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}",
        }
        self.stdout.write(json.dumps({"kiosks": kiosks, "invite": invite}))
