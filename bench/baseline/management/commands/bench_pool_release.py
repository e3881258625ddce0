"""Time the mixing pool's release in-process, as the worker's task runs it; print JSON.

Run by bench/pool.py (which imports no Django). Two modes:

* --survey <public_id>: release what a survey's pool holds now (the answers a wrk run
  pooled). The survey is first marked closed (a plain UPDATE, no close service and so no
  enqueued task), so any number waiting is a due batch, even fewer than k.
* --sizes 1000,10000: for each size N, a fresh anonymous survey (points for anonymous
  answers) in the organisation with k = 5, N pooled answers (the ten-answer mix, cleaned by
  the real `answers_validate`) and N participations owing the survey's points, one per
  member, written with bulk_create outside the clock; then, timed, what
  `surveys.tasks.anonymous_pool_release_task` does: `anonymous_pool_release` (one
  transaction: N responses, answers, choice rows, sentiment, cases, pool rows deleted)
  and `anonymous_points_release` (another: N ledger entries, shuffled). Beside it, the
  baseline: a plain bulk_create of the same N responses, 4 N answers and 3 N choice rows
  into another survey, in one transaction.

Tasks are published to an in-memory broker, never run here (the release runs in a worker in
production and would publish, not run, what it enqueues).
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import secrets
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from bench.baseline.management.commands.bench_pool_check import pool_counts
from bench.baseline.management.commands.bench_pool_seed import anonymous_survey
from communities.models import Community, Member, Organisation
from config.celery import app
from surveys.choices import QuestionType, SurveyStatus
from surveys.models import Answer, Participation, PooledAnswer, Response, Survey
from surveys.services.answers import answers_validate, question_field_name
from surveys.services.pool import anonymous_points_release, anonymous_pool_release
from surveys.services.responses import survey_questions

BATCH = 2000


def release_timed(survey: Survey) -> dict[str, Any]:
    """The task's two calls, timed apart."""
    started = time.perf_counter()
    released = anonymous_pool_release(survey_id=survey.pk)
    pooled_done = time.perf_counter()
    credited = anonymous_points_release(survey_id=survey.pk)
    done = time.perf_counter()
    total = done - started
    return {
        "released": released,
        "credited": credited,
        "seconds": round(total, 3),
        "pool_release_s": round(pooled_done - started, 3),
        "points_release_s": round(done - pooled_done, 3),
        "answers_per_s": round(released / total, 1) if total else 0.0,
        "ms_per_answer": round(1000 * total / released, 3) if released else None,
    }


def release_profiled(survey: Survey, path: Path) -> None:
    """The same two calls under cProfile (not a figure: the profiler slows them)."""
    profiler = cProfile.Profile()
    profiler.enable()
    anonymous_pool_release(survey_id=survey.pk)
    anonymous_points_release(survey_id=survey.pk)
    profiler.disable()
    profile_write(profiler, path)


def profile_write(profiler: cProfile.Profile, path: Path) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    path.write_text(out.getvalue())


def mix_cleaned(survey: Survey, mix: list[list[Any]]) -> list[dict[int, dict[str, Any]]]:
    """The ten answers as `answers_validate` cleans them (what a request would pool)."""
    questions = survey_questions(survey=survey)
    by_type = {q.type: q for q in questions}
    single = [c.pk for c in by_type[QuestionType.SINGLE_CHOICE].choices.all()]
    multi = [c.pk for c in by_type[QuestionType.MULTI_CHOICE].choices.all()]
    cleaned = []
    for i, (score, text) in enumerate(mix):
        raw = {
            question_field_name(by_type[QuestionType.NPS]): str(score),
            question_field_name(by_type[QuestionType.SINGLE_CHOICE]): str(single[i % 3]),
            question_field_name(by_type[QuestionType.MULTI_CHOICE]): [
                str(multi[i % 4]),
                str(multi[(i + 1) % 4]),
            ],
            question_field_name(by_type[QuestionType.TEXT]): text,
        }
        cleaned.append(answers_validate(questions=questions, raw=raw))
    return cleaned


def pool_seed(
    *, survey: Survey, members: list[Member], cleaned: list[dict[int, dict[str, Any]]]
) -> None:
    """What N requests would have left: N pooled answers and N participations owing points."""
    today = timezone.localdate()
    with transaction.atomic():
        Participation.objects.bulk_create(
            (
                Participation(
                    organisation_id=survey.organisation_id,
                    survey=survey,
                    member=member,
                    completed_on=today,
                    points_pending=survey.points,
                )
                for member in members
            ),
            batch_size=BATCH,
        )
        PooledAnswer.objects.bulk_create(
            (
                PooledAnswer(
                    organisation_id=survey.organisation_id,
                    survey=survey,
                    language="en",
                    answers={str(q): v for q, v in cleaned[i % len(cleaned)].items()},
                    idempotency_key=f"seed-{i:06d}",
                    pooled_on=today,
                )
                for i in range(len(members))
            ),
            batch_size=BATCH,
        )


def bulk_baseline(survey: Survey, n: int, cleaned: list[dict[int, dict[str, Any]]]) -> float:
    """Plain bulk_create of n responses with their answers and choice rows; its seconds."""
    types = dict(survey.questions.values_list("pk", "type"))
    started = time.perf_counter()
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    with transaction.atomic():
        responses = Response.objects.bulk_create(
            (
                Response(
                    organisation_id=survey.organisation_id,
                    survey=survey,
                    language="en",
                    submitted_at=now,
                    submitted_on=timezone.localdate(now),
                    is_anonymous=True,
                    idempotency_key=secrets.token_urlsafe(32)[:43],
                )
                for _ in range(n)
            ),
            batch_size=BATCH,
        )
        rows = [
            (
                Answer(
                    organisation_id=survey.organisation_id,
                    response=response,
                    question_id=qid,
                    question_type=types[qid],
                    number=value.get("number"),
                    text=value.get("text", ""),
                ),
                value.get("choice_ids", ()),
            )
            for i, response in enumerate(responses)
            for qid, value in cleaned[i % len(cleaned)].items()
        ]
        Answer.objects.bulk_create((answer for answer, _ids in rows), batch_size=BATCH)
        Answer.choices.through.objects.bulk_create(
            (
                Answer.choices.through(answer_id=answer.pk, choice_id=cid)
                for answer, ids in rows
                for cid in ids
            ),
            batch_size=BATCH,
        )
    return time.perf_counter() - started


def pooled_survey(
    org: Organisation, community: Community, title: str, members: list[Member], mix: list[Any]
) -> tuple[Survey, list[dict[int, dict[str, Any]]]]:
    """A fresh anonymous survey (10 points) whose pool holds one answer per member."""
    survey = anonymous_survey(org=org, community=community, title=title, points=10)
    survey = Survey.objects.select_related("organisation").get(pk=survey.pk)
    cleaned = mix_cleaned(survey, mix)
    pool_seed(survey=survey, members=members, cleaned=cleaned)
    return survey, cleaned


class Command(BaseCommand):
    help = "Time the anonymous pool's release (and a bulk_create baseline); print JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--survey", help="public id: release what its pool holds")
        parser.add_argument("--sizes", default="", help="comma-separated batch sizes to seed")
        parser.add_argument("--mix", default="[]", help="JSON [[nps, text], ...] (bench.load)")
        parser.add_argument("--org", default="bench-pool", help="slug of the k = 5 organisation")
        parser.add_argument("--profile", type=int, default=0, help="also profile a batch of N")
        parser.add_argument("--profile-out", default="", help="where the profile's text goes")

    def handle(self, *args: Any, **options: Any) -> None:
        # As the worker would: what the release enqueues is published, not run here.
        app.conf.task_always_eager = False
        app.conf.broker_url = "memory://"
        if options["survey"]:
            survey = Survey.objects.get(public_id=options["survey"])
            before = pool_counts(survey)
            Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.CLOSED)
            survey.refresh_from_db()
            timed = release_timed(survey)
            self.stdout.write(
                json.dumps({"before": before, "release": timed, "after": pool_counts(survey)})
            )
            return

        org = Organisation.objects.get(slug=options["org"])
        community = Community.objects.get(organisation=org, slug="bench")
        mix = json.loads(options["mix"])
        sizes = [int(s) for s in options["sizes"].split(",") if s.strip()]
        largest = max([*sizes, options["profile"]])
        members = list(Member.objects.filter(organisation=org).order_by("pk")[:largest])
        if len(members) < largest:
            raise SystemExit(f"{len(members)} members, a batch of {largest} needs as many")
        results = []
        for n in sizes:
            survey, _cleaned = pooled_survey(org, community, f"Release {n}", members[:n], mix)
            before = pool_counts(survey)
            timed = release_timed(survey)
            after = pool_counts(survey)

            plain = anonymous_survey(org=org, community=community, title=f"Plain {n}", points=0)
            # The same answers, to the plain survey's own questions.
            seconds = bulk_baseline(plain, n, mix_cleaned(plain, mix))
            results.append(
                {
                    "size": n,
                    "survey": survey.public_id,
                    "before": before,
                    "release": timed,
                    "after": after,
                    "baseline": {
                        "seconds": round(seconds, 3),
                        "answers_per_s": round(n / seconds, 1),
                        "counts": pool_counts(plain),
                    },
                }
            )
        if options["profile"]:
            n = options["profile"]
            survey, _cleaned = pooled_survey(org, community, f"Profile {n}", members[:n], mix)
            release_profiled(survey, Path(options["profile_out"]))
        self.stdout.write(json.dumps({"batches": results}))
