"""Count what the pool benchmark left behind for one survey, before or after its release.

`bench_check`'s counts (responses, answers, choice rows, participations, ledger, cases,
analysis) plus the pool's own: answers waiting in the pool, participations still owing
points, and what would tie a released answer to a moment or a member (a response off its
batch's hour, a member or consent on an anonymous response, a ledger entry not dated by
day). Prints one JSON line.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count, Q, Sum

from bench.baseline.management.commands.bench_check import survey_counts
from rewards.models import LedgerEntry
from surveys.choices import QuestionType
from surveys.models import Answer, Participation, PooledAnswer, Response, Survey
from surveys.services.pool import pool_batch_size


def pool_counts(survey: Survey) -> dict[str, Any]:
    pool = PooledAnswer.objects.filter(survey=survey)
    participations = Participation.objects.filter(survey=survey)
    pending = participations.filter(points_pending__gt=0)
    responses = Response.objects.filter(survey=survey)
    ledger = LedgerEntry.objects.filter(source=f"surveys.survey:{survey.pk}")
    return {
        **survey_counts(survey),
        "k": pool_batch_size(survey=survey),
        "anonymity": survey.anonymity,
        "pooled": pool.count(),
        "pooled_distinct_keys": pool.values("idempotency_key").distinct().count(),
        "participating_members": participations.values("member_id").distinct().count(),
        "participations_pending": pending.count(),
        "points_pending_sum": pending.aggregate(s=Sum("points_pending"))["s"] or 0,
        "ledger_members": ledger.values("member_id").distinct().count(),
        "ledger_members_twice": ledger.values("member_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "ledger_to_non_participants": ledger.exclude(
            member_id__in=participations.values("member_id")
        ).count(),
        "responses_not_anonymous": responses.filter(
            Q(is_anonymous=False)
            | Q(member__isnull=False)
            | Q(invitation__isnull=False)
            | Q(consent_to_contact=True)
        ).count(),
        # A released answer carries its batch's hour, never its own moment.
        "responses_off_the_hour": responses.exclude(
            submitted_at__minute=0, submitted_at__second=0
        ).count(),
        "ledger_not_by_day": ledger.exclude(
            created_at__hour=0, created_at__minute=0, created_at__second=0
        ).count(),
        "text_answers_unscored": Answer.objects.filter(
            response__survey=survey, question_type=QuestionType.TEXT, sentiment__isnull=True
        )
        .exclude(text="")
        .count(),
    }


class Command(BaseCommand):
    help = "Print JSON counts for one survey of the pool benchmark."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--survey", required=True, help="public id")

    def handle(self, *args: Any, **options: Any) -> None:
        survey = Survey.objects.select_related("organisation").get(public_id=options["survey"])
        self.stdout.write(json.dumps(pool_counts(survey)))
