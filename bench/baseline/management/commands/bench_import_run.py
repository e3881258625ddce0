"""One member-import measurement on the configured database, printed as a JSON line.

Run by bench/imports.py (which imports no Django). In one process and one database:

* chorus   - member_import_create (decode + header check + save the file), then the
             check task's service (member_import_check: every row validated into the report)
             and the commit task's service (member_import_commit: re-check, bulk_create of
             members and consent records in one transaction), timed end to end and per phase.
* baseline - Member.objects.bulk_create of the same rows into a second, empty community:
             no decoding, no validation, no duplicate check, no consent records.

Then it counts what each left behind so the rates sit next to their correctness checks.
"""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from communities.choices import AttributeKind, ConsentChannel, ImportStatus, MemberStatus
from communities.models import (
    AttributeDefinition,
    Community,
    ConsentRecord,
    Member,
    MemberImport,
    Organisation,
)
from communities.services import (
    member_import_check,
    member_import_commit,
    member_import_confirm,
    member_import_create,
    referral_code_new,
)
from config.celery import app

CITIES = ("Bangkok", "Chiang Mai", "Phuket", "Tel Aviv", "Osaka", "London")
BANDS = ("18-24", "25-34", "35+")


def csv_file(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "phone", "language", "city", "age", "age_band", "birthday"])
    for n in range(rows):
        writer.writerow(
            [
                f"Person{n}@Example.com",  # mixed case: normalised on the way in
                f"Person {n}",
                f"+66 8{n:08d}",
                ("en", "th", "he", "ja")[n % 4],
                CITIES[n % len(CITIES)],
                18 + n % 60,
                BANDS[n % len(BANDS)],
                f"{1960 + n % 45}-{1 + n % 12:02d}-{1 + n % 28:02d}",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


def community_with_attributes(organisation: Organisation, slug: str) -> Community:
    community = Community.objects.create(organisation=organisation, name=slug, slug=slug)
    for position, (key, kind) in enumerate(
        [
            ("city", AttributeKind.TEXT),
            ("age", AttributeKind.NUMBER),
            ("age_band", AttributeKind.CHOICE),
            ("birthday", AttributeKind.DATE),
        ]
    ):
        AttributeDefinition.objects.create(
            organisation=organisation,
            community=community,
            key=key,
            kind=kind,
            label={"en": key},
            position=position,
            options=[{"value": b, "label": {"en": b}} for b in BANDS]
            if kind == AttributeKind.CHOICE
            else [],
        )
    return community


def baseline_rows(data: bytes) -> list[dict[str, Any]]:
    """The same rows as plain dicts (parsing outside the timed part)."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return list(reader)


def counts(community: Community) -> dict[str, Any]:
    members = Member.objects.filter(community=community)
    return {
        "members": members.count(),
        "distinct_emails": members.values("email").distinct().count(),
        "lowercase_emails": members.filter(email__regex=r"^[^A-Z]*$").count(),
        "with_attributes": members.filter(attributes__has_key="birthday").count(),
        "consents": ConsentRecord.objects.filter(member__community=community).count(),
        "import_consents": ConsentRecord.objects.filter(
            member__community=community, channel=ConsentChannel.IMPORT, granted=True
        ).count(),
        "members_with_several_consents": ConsentRecord.objects.filter(member__community=community)
        .values("member_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
    }


class Command(BaseCommand):
    help = "Time a CSV member import against a plain bulk_create; print JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=50_000)

    def handle(self, *args, rows: int, **options) -> None:
        # The services run here, in this process, as the tasks would run them in a worker;
        # enqueued tasks must not run a second time behind the measurement's back.
        app.conf.task_always_eager = False
        app.conf.broker_url = "memory://"
        stamp = timezone.now().strftime("%H%M%S%f")
        organisation = Organisation.objects.create(name="Import bench", slug=f"import-{stamp}")
        chorus_community = community_with_attributes(organisation, f"chorus-{stamp}")
        plain_community = community_with_attributes(organisation, f"plain-{stamp}")
        data = csv_file(rows)

        # --- Chorus: the request's part, then the check task's, then the commit task's.
        started = time.perf_counter()
        with transaction.atomic():
            member_import = member_import_create(
                community=chorus_community,
                filename="bench.csv",
                data=data,
                consent_confirmed=True,
            )
        uploaded = time.perf_counter()
        check_status = member_import_check(import_id=member_import.pk)
        checked = time.perf_counter()
        member_import.refresh_from_db()
        with transaction.atomic():
            member_import_confirm(member_import=member_import)
        commit_status = member_import_commit(import_id=member_import.pk)
        committed = time.perf_counter()
        member_import.refresh_from_db()
        # A second run of each task must find its work done.
        rerun = {
            "check": member_import_check(import_id=member_import.pk),
            "commit": member_import_commit(import_id=member_import.pk),
        }

        # --- Baseline: plain bulk_create of the same rows, in batches of the same size.
        parsed = baseline_rows(data)
        plain_started = time.perf_counter()
        now = timezone.now()
        with transaction.atomic():
            Member.objects.bulk_create(
                (
                    Member(
                        organisation=organisation,
                        community=plain_community,
                        email=row["email"].lower(),
                        name=row["name"],
                        phone=row["phone"],
                        locale=row["language"],
                        attributes={
                            "city": row["city"],
                            "age": int(row["age"]),
                            "age_band": row["age_band"],
                            "birthday": row["birthday"],
                        },
                        status=MemberStatus.NEW,
                        joined_at=now,
                        referral_code=referral_code_new(),
                    )
                    for row in parsed
                ),
                batch_size=1000,
            )
        plain_done = time.perf_counter()

        total = committed - started
        result = {
            "rows": rows,
            "file_bytes": len(data),
            "chorus": {
                "seconds": round(total, 3),
                "rows_per_s": round(rows / total, 1),
                "phases_s": {
                    "upload": round(uploaded - started, 3),
                    "check": round(checked - uploaded, 3),
                    "commit": round(committed - checked, 3),
                },
                "check_status": check_status,
                "commit_status": commit_status,
                "rerun": rerun,
                "import": {
                    "status": member_import.status,
                    "total_rows": member_import.total_rows,
                    "valid_rows": member_import.valid_rows,
                    "error_count": member_import.error_count,
                    "created_count": member_import.created_count,
                    "content_kept": bool(member_import.content),
                },
                "counts": counts(chorus_community),
            },
            "baseline": {
                "seconds": round(plain_done - plain_started, 3),
                "rows_per_s": round(rows / (plain_done - plain_started), 1),
                "counts": counts(plain_community),
            },
            "imports_done": MemberImport.objects.filter(
                community=chorus_community, status=ImportStatus.DONE
            ).count(),
        }
        self.stdout.write(json.dumps(result))
