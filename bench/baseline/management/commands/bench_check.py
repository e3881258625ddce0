"""Count what a benchmark run wrote, so throughput is only reported next to correctness.

--survey <public id>        a survey answered by signed-in members (the survey submit);
--kiosk-survey <public id>  a survey answered by kiosks (the kiosk JSON submit);
neither                     the minimal submit's rows (--key-prefix: one wrk run's).
"""

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
from surveys.choices import ChannelKind, QuestionType
from surveys.models import Answer, Channel, Participation, Response, Survey

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


def kiosk_survey_counts(survey: Survey) -> dict[str, Any]:
    """Rows the kiosks of `survey` left behind: identity, tagging, answers, cases, analysis."""
    responses = Response.objects.filter(survey=survey)
    n = responses.count()
    kiosks = Channel.objects.filter(survey=survey, kind=ChannelKind.KIOSK)
    detractor_ids = list(
        Answer.objects.filter(
            response__survey=survey, question_type=QuestionType.NPS, number__lte=DETRACTOR_MAX
        ).values_list("response_id", flat=True)
    )
    # Any follow-up of any of these responses (nobody to write to), or any email at all
    # that names one of them.
    response_ids = list(responses.values_list("pk", flat=True))
    followup_keys = [f"followup:response:{pk}" for pk in response_ids]
    per_kiosk = dict(
        responses.filter(channel__in=kiosks).values_list("channel_id").annotate(n=Count("id"))
    )
    return {
        "responses": n,
        "distinct_keys": responses.values("idempotency_key").distinct().count(),
        "with_member": responses.filter(member__isnull=False).count(),
        "with_invitation": responses.filter(invitation__isnull=False).count(),
        "not_anonymous": responses.filter(is_anonymous=False).count(),
        "with_consent": responses.filter(consent_to_contact=True).count(),
        "without_location": responses.filter(location__isnull=True).count(),
        "wrong_location": responses.exclude(location_id__in=kiosks.values("location_id")).count(),
        "not_from_a_kiosk": responses.exclude(channel__in=kiosks).count(),
        "kiosks": kiosks.count(),
        "per_kiosk": sorted(per_kiosk.values()),
        "languages": dict(
            responses.values_list("language").annotate(n=Count("id")).order_by("language")
        ),
        "answers": Answer.objects.filter(response__survey=survey).count(),
        "answer_choices": Answer.choices.through.objects.filter(
            answer__response__survey=survey
        ).count(),
        "participations": Participation.objects.filter(survey=survey).count(),
        "ledger_entries": LedgerEntry.objects.filter(source=f"surveys.survey:{survey.pk}").count(),
        "detractors": len(set(detractor_ids)),
        "cases": Case.objects.filter(response__survey=survey).count(),
        "outbox": OutboundEmail.objects.filter(idempotency_key__in=followup_keys).count(),
        "analysed": responses.filter(analysed_at__isnull=False).count(),
    }


class Command(BaseCommand):
    help = "Print JSON counts for a benchmark survey (--survey) or the minimal rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--survey", help="public id; omit for the minimal-submit rows")
        parser.add_argument("--kiosk-survey", help="public id of a survey kiosks answer")
        parser.add_argument("--key-prefix", default="", help="minimal rows of one wrk run")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["kiosk_survey"]:
            counts = kiosk_survey_counts(Survey.objects.get(public_id=options["kiosk_survey"]))
        elif options["survey"]:
            counts = survey_counts(Survey.objects.get(public_id=options["survey"]))
        else:
            rows = MinimalRow.objects.filter(key__startswith=options["key_prefix"])
            counts = {
                "responses": rows.count(),
                "distinct_keys": rows.values("key").distinct().count(),
            }
        self.stdout.write(json.dumps(counts))
