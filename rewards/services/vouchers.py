"""A voucher reward's pool of codes, filled from CSV files staff upload.

Each row of a file is reported (added, duplicate in the file, already in the pool, empty,
too long, unreadable) with only the code's last characters: codes are secrets, shown whole
only to the member each goes to. A file that cannot be read as codes is refused whole.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import User
from communities.services.audit import audit_record
from communities.services.imports import member_import_decode
from rewards.choices import RewardKind
from rewards.models import Reward, VoucherCode, VoucherUpload
from rewards.services.catalogue import size_text

VOUCHER_UPLOAD_MAX_BYTES = 1024 * 1024
VOUCHER_UPLOAD_MAX_ROWS = 50_000
VOUCHER_CODE_MAX_LENGTH = VoucherCode._meta.get_field("code").max_length
_BATCH = 500

# Outcomes of an uploaded row, stored as codes and translated when shown.
VOUCHER_OUTCOMES = {
    "added": gettext_lazy("Added"),
    "duplicate_in_file": gettext_lazy("Also on an earlier row of this file; not added again"),
    "in_pool": gettext_lazy("Already in this reward's codes; not added again"),
    "empty": gettext_lazy("No code in this row"),
    "too_long": gettext_lazy("Longer than 100 characters"),
    "invalid": gettext_lazy("Not readable as a code (control characters or broken quoting)"),
}


def voucher_code_hint(code: str) -> str:
    """What staff may see of a code: its last characters (at most 4, and never more than
    half of a short code), so they can match a member's complaint without holding it."""
    shown = min(4, len(code) // 2)
    return "…" + code[-shown:] if shown else "…"


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=lambda d: (header.count(d), d == ","))


def _voucher_records(text: str) -> tuple[list[tuple[int, Any]], bool]:
    """(row number as a spreadsheet shows it, the code cell or csv.Error) for each row that
    is not blank, and whether the first row was a header. ValidationError when there are
    several columns and none is called "code"."""
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    records: list[tuple[int, Any]] = []
    column = 0
    row = 0
    has_header = False
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row += 1
            records.append((row, exc))
            continue
        row += 1
        if row == 1:
            names = [cell.strip().lower() for cell in record]
            if "code" in names:
                column, has_header = names.index("code"), True
                continue
            if sum(1 for cell in record if cell.strip()) > 1:
                raise ValidationError(
                    _(
                        "The file has several columns and none is called “code”. Put the codes "
                        "in one column with “code” in its first row, or upload a file with one "
                        "code per line."
                    ),
                    code="no_code_column",
                )
        if not any(cell.strip() for cell in record):
            continue
        records.append((row, record[column] if column < len(record) else ""))
        if len(records) > VOUCHER_UPLOAD_MAX_ROWS:
            raise ValidationError(
                _("The file has more than %(max)s codes. Split it and upload the parts.")
                % {"max": f"{VOUCHER_UPLOAD_MAX_ROWS:,}"},
                code="too_many_rows",
            )
    return records, has_header


def _code_outcome(value: Any) -> tuple[str, str]:
    """(outcome, the trimmed code) for one cell, before duplicates are looked for."""
    if isinstance(value, csv.Error):
        return "invalid", ""
    code = value.strip()
    if not code:
        return "empty", ""
    if len(code) > VOUCHER_CODE_MAX_LENGTH:
        return "too_long", code
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in code):
        return "invalid", code
    return "added", code


def _upload_refuse(message: str | list[str], code: str) -> ValidationError:
    messages = message if isinstance(message, list) else [message]
    return ValidationError({"file": [ValidationError(m, code=code) for m in messages]})


@transaction.atomic
def voucher_codes_upload(
    *, reward: Reward, actor: User | None, filename: str, data: bytes
) -> VoucherUpload:
    """Add a voucher reward's codes from a CSV (a "code" column, or one code per line).

    Each row is reported (added, duplicate in the file, already in the pool, empty, too
    long, unreadable); the report keeps only each code's last characters. A file that is
    too large, not UTF-8 text, without codes or with too many rows raises ValidationError
    on "file" and adds nothing. Uploads of one reward take turns on its row lock, so the
    same code can never be added twice. Audited as "voucher_upload.create".
    """
    locked = Reward.objects.select_for_update().select_related("organisation").get(pk=reward.pk)
    if locked.kind != RewardKind.VOUCHER:
        raise _upload_refuse(_("Only voucher rewards have codes."), "not_voucher")
    if len(data) > VOUCHER_UPLOAD_MAX_BYTES:
        raise _upload_refuse(
            _("The file is larger than %(size)s. Split it and upload the parts.")
            % {"size": size_text(VOUCHER_UPLOAD_MAX_BYTES)},
            "too_large",
        )
    try:
        text = member_import_decode(data=data)
        records, _header = _voucher_records(text)
    except ValidationError as exc:
        raise _upload_refuse(exc.messages, exc.code or "invalid") from None
    if not records:
        raise _upload_refuse(
            _("The file has no codes. Put one code per line, or in a column called “code”."),
            "empty",
        )
    report: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    wanted: list[tuple[int, str]] = []
    for row, value in records:
        outcome, code = _code_outcome(value)
        entry: dict[str, Any] = {"row": row, "outcome": outcome, "code": ""}
        if code:
            entry["code"] = voucher_code_hint(code)
        if outcome == "added":
            earlier = first_row.setdefault(code, row)
            if earlier != row:
                entry.update(outcome="duplicate_in_file", first_row=earlier)
            else:
                wanted.append((row, code))
        report.append(entry)
    in_pool: set[str] = set()
    codes = [code for _row, code in wanted]
    for start in range(0, len(codes), _BATCH):
        in_pool.update(
            VoucherCode.objects.filter(
                reward=locked, code__in=codes[start : start + _BATCH]
            ).values_list("code", flat=True)
        )
    by_row = {entry["row"]: entry for entry in report}
    for row, code in wanted:
        if code in in_pool:
            by_row[row]["outcome"] = "in_pool"
    new_codes = [code for _row, code in wanted if code not in in_pool]
    upload = VoucherUpload.objects.create(
        organisation=locked.organisation,
        reward=locked,
        filename=(filename or "")[:200],
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        added=len(new_codes),
        refused=len(report) - len(new_codes),
        report=report,
    )
    VoucherCode.objects.bulk_create(
        (
            VoucherCode(organisation=locked.organisation, reward=locked, code=code, upload=upload)
            for code in new_codes
        ),
        batch_size=1000,
    )
    audit_record(
        organisation=locked.organisation,
        actor=actor,
        action="voucher_upload.create",
        target=upload,
        target_type="voucher_upload",
        target_label=f"{locked.name}: {upload.filename}",
        changes={"added": [None, upload.added], "refused": [None, upload.refused]},
    )
    return upload
