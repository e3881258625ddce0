"""Count what the channels benchmark wrote, so each figure is reported beside its checks.

--kiosk <channel id>  the responses a kiosk stored: identity, tagging, answers, cases,
                      analysis; --sample N adds N of its (idempotency key, response id)
                      pairs, spread over the run, for the replay check.
--batch <batch id>    an invitation batch: its status and timestamps, its invitations and
                      their outbox rows.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count, Max, Min, Q

from communities.outbox.choices import EmailStatus
from communities.outbox.models import OutboundEmail
from feedback.models import Case
from surveys.choices import QuestionType
from surveys.models import Answer, Channel, InvitationBatch, Response, SurveyInvitation

DETRACTOR_MAX = 6


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def kiosk_counts(channel: Channel, sample: int) -> dict[str, Any]:
    responses = Response.objects.filter(channel=channel)
    ids = responses.values("id")
    n = responses.count()
    detractors = (
        Answer.objects.filter(
            response__channel=channel, question_type=QuestionType.NPS, number__lte=DETRACTOR_MAX
        )
        .values("response_id")
        .distinct()
        .count()
    )
    followup_keys = [f"followup:response:{pk}" for pk in responses.values_list("pk", flat=True)]
    counts: dict[str, Any] = {
        "responses": n,
        "distinct_keys": responses.values("idempotency_key").distinct().count(),
        # Same survey, same key, twice: the unique constraint forbids it; counted anyway.
        "duplicate_keys": responses.values("survey_id", "idempotency_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "with_member": responses.filter(member__isnull=False).count(),
        "with_invitation": responses.filter(invitation__isnull=False).count(),
        "not_anonymous": responses.filter(is_anonymous=False).count(),
        "with_consent": responses.filter(consent_to_contact=True).count(),
        "wrong_location": responses.exclude(location_id=channel.location_id).count()
        + responses.filter(location__isnull=True).count(),
        "wrong_survey": responses.exclude(survey_id=channel.survey_id).count(),
        "languages": dict(
            responses.values_list("language").annotate(n=Count("id")).order_by("language")
        ),
        "answers": Answer.objects.filter(response__in=ids).count(),
        "answer_choices": Answer.choices.through.objects.filter(answer__response__in=ids).count(),
        "text_answers": Answer.objects.filter(
            response__in=ids, question_type=QuestionType.TEXT
        ).count(),
        "text_scored": Answer.objects.filter(
            response__in=ids, question_type=QuestionType.TEXT, sentiment__isnull=False
        ).count(),
        "negative_texts": Answer.objects.filter(
            response__in=ids, question_type=QuestionType.TEXT, sentiment__lt=0
        ).count(),
        "detractors": detractors,
        "cases": Case.objects.filter(response__channel=channel).count(),
        "followup_emails": OutboundEmail.objects.filter(idempotency_key__in=followup_keys).count(),
        "analysed": responses.filter(analysed_at__isnull=False).count(),
        "channel_active": channel.active,
    }
    if sample:
        # Spread over the whole run: every k-th response by id.
        pairs = list(responses.order_by("pk").values_list("idempotency_key", "pk"))
        step = max(1, len(pairs) // sample)
        counts["sample"] = [list(p) for p in pairs[::step][:sample]]
    return counts


def batch_counts(batch: InvitationBatch) -> dict[str, Any]:
    invitations = SurveyInvitation.objects.filter(batch=batch)
    keys = [f"invitation:{pk}:0" for pk in invitations.values_list("pk", flat=True)]
    outbox = OutboundEmail.objects.filter(idempotency_key__in=keys)
    emails = OutboundEmail.objects.filter(organisation_id=batch.organisation_id)
    span = outbox.aggregate(
        first_created=Min("created_at"),
        last_created=Max("created_at"),
        first_sent=Min("sent_at"),
        last_sent=Max("sent_at"),
    )
    return {
        "batch_status": batch.status,
        "batch_total": batch.total,
        "batch_skipped": batch.skipped,
        "batch_recipients": len(batch.recipients),
        "batch_created_at": iso(batch.created_at),
        "batch_finished_at": iso(batch.finished_at),
        "invitations": invitations.count(),
        "invitation_emails_distinct": invitations.values("email").distinct().count(),
        "invitations_unsent": invitations.filter(sent_at__isnull=True).count(),
        "invitations_with_channel": invitations.filter(channel__isnull=False).count(),
        "outbox": outbox.count(),
        "outbox_by_status": dict(
            outbox.values_list("status").annotate(n=Count("id")).order_by("status")
        ),
        "outbox_sent": outbox.filter(status=EmailStatus.SENT, sent_at__isnull=False).count(),
        "outbox_retried": outbox.filter(attempts__gt=1).count(),
        "outbox_distinct_to": outbox.values("to_email").distinct().count(),
        "outbox_to_not_invited": outbox.exclude(to_email__in=invitations.values("email")).count(),
        # Every email of the organisation: nothing else may have been written or sent.
        "org_emails": emails.count(),
        "org_emails_not_sent": emails.filter(~Q(status=EmailStatus.SENT)).count(),
        "outbox_first_created": iso(span["first_created"]),
        "outbox_last_created": iso(span["last_created"]),
        "outbox_first_sent": iso(span["first_sent"]),
        "outbox_last_sent": iso(span["last_sent"]),
    }


class Command(BaseCommand):
    help = "Print JSON counts for a kiosk (--kiosk) or an invitation batch (--batch)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kiosk", type=int, help="the kiosk's channel id")
        parser.add_argument("--sample", type=int, default=0, help="(key, id) pairs to return")
        parser.add_argument("--batch", type=int, help="an InvitationBatch id")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["kiosk"]:
            counts = kiosk_counts(Channel.objects.get(pk=options["kiosk"]), options["sample"])
        else:
            counts = batch_counts(InvitationBatch.objects.get(pk=options["batch"]))
        self.stdout.write(json.dumps(counts))
