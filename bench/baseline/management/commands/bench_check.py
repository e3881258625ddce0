"""Count what a benchmark run wrote, so throughput is only reported next to correctness."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count, Sum

from bench.baseline.models import MinimalRow
from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail
from feedback.models import Case
from rewards.models import LedgerEntry
from surveys.choices import QuestionType
from surveys.models import Answer, Participation, Response, Survey

DETRACTOR_MAX = 6


def survey_counts(survey: Survey) -> dict[str, Any]:
    """Rows the submissions to `survey` left behind, each counted independently."""
    responses = Response.objects.filter(survey=survey)
    detractor_ids = set(
        Answer.objects.filter(
            response__survey=survey, question_type=QuestionType.NPS, number__lte=DETRACTOR_MAX
        ).values_list("response_id", flat=True)
    )
    followup_keys = [f"followup:response:{pk}" for pk in detractor_ids]
    outbox = OutboundEmail.objects.filter(template="followup", idempotency_key__in=followup_keys)
    per_member = responses.values("member_id").annotate(n=Count("id")).filter(n__gt=1).count()
    ledger = LedgerEntry.objects.filter(source=f"surveys.survey:{survey.pk}")
    return {
        "responses": responses.count(),
        "distinct_keys": responses.values("idempotency_key").distinct().count(),
        "members_with_several_responses": per_member,
        "responses_without_member": responses.filter(member__isnull=True).count(),
        "participations": Participation.objects.filter(survey=survey).count(),
        "answers": Answer.objects.filter(response__survey=survey).count(),
        "answer_choices": Answer.choices.through.objects.filter(
            answer__response__survey=survey
        ).count(),
        "ledger_entries": ledger.count(),
        "ledger_sum": ledger.aggregate(s=Sum("points"))["s"] or 0,
        "points": survey.points,
        "detractors": len(detractor_ids),
        "consented_detractors": responses.filter(
            pk__in=detractor_ids, consent_to_contact=True
        ).count(),
        "consented_total": responses.filter(consent_to_contact=True).count(),
        "cases": Case.objects.filter(response__survey=survey).count(),
        "outbox": outbox.count(),
        "outbox_sent": outbox.filter(status=EmailStatus.SENT).count(),
        "analysed": responses.filter(analysed_at__isnull=False).count(),
    }


class Command(BaseCommand):
    help = "Print JSON counts for a benchmark survey (--survey) or the minimal rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--survey", help="public id; omit for the minimal-submit rows")
        parser.add_argument("--key-prefix", default="", help="minimal rows of one wrk run")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["survey"]:
            counts = survey_counts(Survey.objects.get(public_id=options["survey"]))
        else:
            rows = MinimalRow.objects.filter(key__startswith=options["key_prefix"])
            counts = {
                "responses": rows.count(),
                "distinct_keys": rows.values("key").distinct().count(),
            }
        self.stdout.write(json.dumps(counts))
