"""Seed the mixing-pool benchmark (bench/pool.py): N signed-in members, the surveys to answer.

The same N users are members of two organisations, so one session (one line of
--sessions-out) answers a survey of either:

* "Bench Pool" (k = 5, the default minimum group size): the IDENTIFIED surveys (the
  existing path) and the ANONYMOUS surveys whose batches are released in the request
  (no Redis: the release task runs eagerly after commit once k answers wait); the release
  figure's surveys are made here later by `bench_pool_release`.
* "Bench Pool (k above the run)" (min_group_size = 32767, the field's largest value): the
  ANONYMOUS surveys whose answers stay pooled during the run, so the figure is the
  request's own cost; `bench_pool_release` releases them afterwards.

Every anonymous survey awards points for anonymous answers (`anonymous_points`), so each
pooled answer also leaves a participation owing its points. Prints JSON: the surveys'
field names by label, with their anonymity, points and k.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from bench.baseline.management.commands.bench_seed import (
    SPECS,
    members_create,
    members_join,
    sessions_mint,
    survey_create,
    survey_fields,
)
from communities.models import Community, Organisation
from surveys.choices import Anonymity
from surveys.models import Survey
from surveys.services.pool import pool_batch_size

# The largest PositiveSmallIntegerField: far above the answers a 10 s run pools.
K_ABOVE_RUN = 32767
# label -> (organisation, anonymous?); each measured survey has its warm-up twin.
SURVEYS = {
    "warm-identified": ("k5", False),
    "identified": ("k5", False),
    "warm-pooled": ("kbig", True),
    "pooled": ("kbig", True),
    "warm-pooled-eager": ("k5", True),
    "pooled-eager": ("k5", True),
}


def anonymous_survey(*, org: Organisation, community: Community, title: str, points: int) -> Survey:
    """A live ANONYMOUS survey (SPECS) whose anonymous answers earn points."""
    survey = survey_create(org=org, community=community, title=title, specs=SPECS, points=points)
    survey.anonymity = Anonymity.ANONYMOUS
    survey.anonymous_points = True
    survey.save(update_fields=["anonymity", "anonymous_points"])
    return survey


class Command(BaseCommand):
    help = "Seed the pool benchmark (members with sessions in two organisations, surveys)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=20000)
        parser.add_argument("--points", type=int, default=10)
        parser.add_argument("--sessions-out", required=True)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        points = options["points"]
        orgs: dict[str, tuple[Organisation, Community]] = {}
        for key, name, slug, k in (
            ("k5", "Bench Pool", "bench-pool", None),
            ("kbig", "Bench Pool (k above the run)", "bench-pool-kbig", K_ABOVE_RUN),
        ):
            org = Organisation.objects.create(name=name, slug=slug)
            if k is not None:
                org.min_group_size = k
                org.save(update_fields=["min_group_size"])
            community = Community.objects.create(organisation=org, name="Bench", slug="bench")
            orgs[key] = (org, community)

        org, community = orgs["k5"]
        users = members_create(org=org, community=community, count=options["members"])
        org_big, community_big = orgs["kbig"]
        members_join(org=org_big, community=community_big, users=users)

        surveys = {}
        for label, (key, anonymous) in SURVEYS.items():
            org, community = orgs[key]
            title = f"Bench pool survey ({label})"
            if anonymous:
                survey = anonymous_survey(org=org, community=community, title=title, points=points)
            else:
                survey = survey_create(
                    org=org, community=community, title=title, specs=SPECS, points=points
                )
            surveys[label] = {
                **survey_fields(survey),
                "anonymity": survey.anonymity,
                "anonymous_points": survey.anonymous_points,
                "organisation": org.slug,
                "k": pool_batch_size(survey=survey),
            }
        keys = sessions_mint(users=users)
        Path(options["sessions_out"]).write_text(
            "".join(f"{settings.SESSION_COOKIE_NAME}={key}\n" for key in keys)
        )
        self.stdout.write(json.dumps({"members": len(users), "surveys": surveys}))
