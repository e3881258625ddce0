"""CSV import of members.

Upload (a request: decode, check the header, save the text, enqueue) → check (a task: every
row through the same rules as member_create, into a per-row report) → confirm (a request:
one conditional update, enqueue) → commit (a task: every good row, re-checked, in one
transaction or none).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.choices import ConsentChannel, ConsentPurpose, ImportStatus, MemberStatus
from communities.models import (
    AttributeDefinition,
    Community,
    ConsentRecord,
    Member,
    MemberImport,
    User,
)
from communities.services.attributes import attributes_clean, community_attributes
from communities.services.common import email_clean, language_clean
from communities.services.members import referral_code_new
from communities.webhooks.members import member_joined_emit
from config.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_MAX_ROWS = 100_000
# The report keeps this many entries; the count says how many there were in all.
IMPORT_ERRORS_KEPT = 20_000
IMPORT_BATCH = 1000
IMPORT_BASE_COLUMNS = ("email", "name", "phone", "language")
IMPORT_PHONE_MAX = 32
IMPORT_COMMIT_ATTEMPTS = 3


def member_import_progress_key(import_id: int) -> str:
    # The commit runs in one transaction, so progress written to its row would stay
    # invisible to the page until the end; the cache is seen at once by every process.
    return f"member-import:{import_id}:written"


def member_import_decode(*, data: bytes) -> str:
    """The uploaded bytes as text: UTF-8 with or without a BOM, anything else refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationError(
            _(
                "This file is saved as UTF-16 (Excel’s “Unicode Text”). Save it as "
                "“CSV UTF-8 (Comma delimited)” and upload it again."
            ),
            code="encoding",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _(
                "This file is not UTF-8 text (the first byte we could not read is number "
                "%(position)d). In Excel choose “CSV UTF-8 (Comma delimited)” when saving; "
                "Google Sheets and Numbers export UTF-8 already."
            )
            % {"position": exc.start + 1},
            code="encoding",
        ) from None
    if "\x00" in text:
        raise ValidationError(
            _("This is not a CSV file. Export the spreadsheet as CSV UTF-8."), code="format"
        )
    return text


def _import_delimiter(text: str) -> str:
    """Comma, or the semicolon or tab some spreadsheets write instead, read off the header."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=lambda d: (header.count(d), d == ","))


def member_import_header(*, text: str) -> list[str]:
    """The column names (trimmed, lower-cased) or ValidationError: a header naming "email"."""
    reader = csv.reader(io.StringIO(text), delimiter=_import_delimiter(text))
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    columns = [cell.strip().lower() for cell in header or []]
    if not any(columns):
        raise ValidationError(
            _("The file is empty. Its first row must name the columns, one of them “email”."),
            code="empty",
        )
    if "email" not in columns:
        raise ValidationError(
            _(
                "The first row must name the columns, and one must be called “email”. "
                "This file’s first row is: %(header)s"
            )
            % {"header": ", ".join(c for c in columns if c)[:300]},
            code="no_email",
        )
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            raise ValidationError(
                _("The column “%(column)s” appears twice.") % {"column": column},
                code="duplicate_column",
            )
        seen.add(column)
    return columns


def _error(row: int, column: str, value: Any, message: str) -> dict[str, Any]:
    return {"row": row, "column": column, "value": str(value)[:200], "message": str(message)}


class _ImportReader:
    """Reads an import's text row by row through the rules member_create applies.

    `header_errors` reports unknown columns (their cells are not imported); `rows()` yields
    (row number as a spreadsheet shows it, the member's fields or None, that row's errors).
    """

    def __init__(self, *, member_import: MemberImport) -> None:
        self.member_import = member_import
        self.community = member_import.community
        self.definitions = community_attributes(community=self.community)
        self.text = member_import.content
        self.columns = member_import_header(text=self.text)
        by_key = {d.key.lower(): d for d in self.definitions}
        self.attribute_columns: dict[int, AttributeDefinition] = {}
        self.header_errors: list[dict[str, Any]] = []
        for index, column in enumerate(self.columns):
            if column in IMPORT_BASE_COLUMNS or not column:
                continue
            if column in by_key:
                self.attribute_columns[index] = by_key[column]
            else:
                self.header_errors.append(
                    _error(
                        1,
                        column,
                        column,
                        _(
                            "This community has no attribute “%(column)s”, so this column "
                            "is not imported. Add the attribute to the community first, or "
                            "remove the column."
                        )
                        % {"column": column},
                    )
                )
        self.index = {c: i for i, c in enumerate(self.columns) if c in IMPORT_BASE_COLUMNS}
        self.default_language = self.community.organisation.default_language

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(self.text), delimiter=_import_delimiter(self.text))
        next(reader)
        row = 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row += 1
                yield row, exc
                continue
            row += 1
            if not any(cell.strip() for cell in record):
                continue
            yield row, record

    def _cell(self, record: list[str], column: str) -> str:
        index = self.index.get(column)
        return record[index].strip() if index is not None and index < len(record) else ""

    def _check(self, row: int, record: list[str]) -> tuple[dict | None, list[dict]]:
        errors = []
        if len(record) > len(self.columns) and any(c.strip() for c in record[len(self.columns) :]):
            errors.append(
                _error(row, "", "", _("This row has more cells than the first row has columns."))
            )
        raw_email = self._cell(record, "email")
        email = ""
        if not raw_email:
            errors.append(_error(row, "email", "", _("The email address is missing.")))
        else:
            try:
                email = email_clean(raw_email)
            except ValidationError as exc:
                errors.append(_error(row, "email", raw_email, exc.messages[0]))
        name = self._cell(record, "name")
        if len(name) > 200:
            errors.append(_error(row, "name", name, _("Keep the name under 200 characters.")))
        phone = self._cell(record, "phone")
        if len(phone) > IMPORT_PHONE_MAX:
            errors.append(
                _error(row, "phone", phone, _("Keep the phone number under 32 characters."))
            )
        language = self._cell(record, "language")
        try:
            language = language_clean(language, default=self.default_language)
        except ValidationError as exc:
            errors.append(_error(row, "language", language, exc.messages[0]))
        values = {
            definition.key: (record[index] if index < len(record) else "")
            for index, definition in self.attribute_columns.items()
        }
        attributes = {}
        try:
            attributes = attributes_clean(
                community=self.community, values=values, definitions=self.definitions
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.append(_error(row, key, values.get(key, ""), messages[0]))
        if errors:
            return None, errors
        return {
            "email": email,
            "name": name,
            "phone": phone,
            "locale": language,
            "attributes": attributes,
        }, []

    def chunks(self) -> Iterator[list[tuple[int, dict | None, list[dict]]]]:
        """Rows in chunks of IMPORT_BATCH, each also checked against the file's earlier rows
        and against the community's members (one query per chunk)."""
        first_row: dict[str, int] = {}
        chunk: list[tuple[int, dict | None, list[dict]]] = []
        for row, record in self._records():
            if isinstance(record, csv.Error):
                chunk.append(
                    (row, None, [_error(row, "", "", _("This row is not valid CSV: %s") % record)])
                )
            else:
                fields, errors = self._check(row, record)
                if fields is not None:
                    earlier = first_row.setdefault(fields["email"], row)
                    if earlier != row:
                        fields, errors = (
                            None,
                            [
                                _error(
                                    row,
                                    "email",
                                    fields["email"],
                                    _(
                                        "This address is also on row %(row)d; only that "
                                        "row is imported."
                                    )
                                    % {"row": earlier},
                                )
                            ],
                        )
                chunk.append((row, fields, errors))
            if len(chunk) >= IMPORT_BATCH:
                yield self._against_members(chunk)
                chunk = []
        if chunk:
            yield self._against_members(chunk)

    def _against_members(self, chunk):
        emails = [fields["email"] for _row, fields, _errors in chunk if fields is not None]
        existing = set(
            Member.objects.filter(community=self.community, email__in=emails).values_list(
                "email", flat=True
            )
        )
        checked = []
        for row, fields, errors in chunk:
            if fields is not None and fields["email"] in existing:
                fields, errors = (
                    None,
                    [
                        _error(
                            row,
                            "email",
                            fields["email"],
                            _("This address is already a member of this community."),
                        )
                    ],
                )
            checked.append((row, fields, errors))
        return checked


@transaction.atomic
def member_import_create(
    *,
    community: Community,
    filename: str,
    data: bytes,
    consent_confirmed: bool,
    created_by: User | None = None,
) -> MemberImport:
    """Save an uploaded CSV and queue its check; the request does no row work.

    Refuses a file over IMPORT_MAX_BYTES, not UTF-8, or without a header naming "email",
    and an upload whose importer did not confirm these people agreed to join.
    """
    errors: dict[str, list[str]] = {}
    if not consent_confirmed:
        errors["consent_confirmed"] = [
            _("Confirm that these people agreed to join and to the community terms.")
        ]
    text = ""
    if len(data) > IMPORT_MAX_BYTES:
        errors["file"] = [
            _("The file is larger than %(mb)d MB. Split it and upload the parts.")
            % {"mb": IMPORT_MAX_BYTES // (1024 * 1024)}
        ]
    else:
        try:
            text = member_import_decode(data=data)
            member_import_header(text=text)
        except ValidationError as exc:
            errors["file"] = exc.messages
    if errors:
        raise ValidationError(errors)
    member_import = MemberImport.objects.create(
        organisation_id=community.organisation_id,
        community=community,
        created_by=created_by,
        filename=(filename or "")[:255],
        content=text,
        consent_confirmed=True,
        status=ImportStatus.CHECKING,
        # An estimate for the progress bar (a quoted cell may span lines); the check
        # replaces it with the true count.
        total_rows=max(text.rstrip("\r\n").count("\n"), 0),
    )
    from communities.tasks import member_import_check_task

    enqueue_on_commit(member_import_check_task, import_id=member_import.pk)
    return member_import


def member_import_check(*, import_id: int) -> str:
    """Check every row of an import into its report and counts; safe to run twice.

    Progress goes to the row in short separate writes (no surrounding transaction), so the
    import page sees it while the check runs.
    """
    member_import = (
        MemberImport.objects.select_related("community__organisation").filter(pk=import_id).first()
    )
    if member_import is None or member_import.status != ImportStatus.CHECKING:
        return "skipped"
    try:
        reader = _ImportReader(member_import=member_import)
    except ValidationError as exc:
        MemberImport.objects.filter(pk=import_id, status=ImportStatus.CHECKING).update(
            status=ImportStatus.FAILED, message=" ".join(exc.messages), finished_at=timezone.now()
        )
        return ImportStatus.FAILED
    errors = list(reader.header_errors)
    error_count, total, valid = len(errors), 0, 0
    for chunk in reader.chunks():
        for _row, fields, row_errors in chunk:
            total += 1
            valid += fields is not None
            error_count += len(row_errors)
            errors.extend(row_errors[: max(0, IMPORT_ERRORS_KEPT - len(errors))])
        if total > IMPORT_MAX_ROWS:
            MemberImport.objects.filter(pk=import_id, status=ImportStatus.CHECKING).update(
                status=ImportStatus.FAILED,
                message=_("The file has more than %(max)d rows. Split it and upload the parts.")
                % {"max": IMPORT_MAX_ROWS},
                processed_rows=total,
                finished_at=timezone.now(),
            )
            return ImportStatus.FAILED
        MemberImport.objects.filter(pk=import_id).update(processed_rows=total)
    MemberImport.objects.filter(pk=import_id, status=ImportStatus.CHECKING).update(
        status=ImportStatus.PREVIEWED,
        total_rows=total,
        valid_rows=valid,
        processed_rows=total,
        errors=errors,
        error_count=error_count,
    )
    return ImportStatus.PREVIEWED


def member_import_preview(*, member_import: MemberImport, limit: int = 20) -> list[dict]:
    """The first `limit` rows that passed the check, as they would be imported."""
    bad_rows = {error["row"] for error in member_import.errors}
    preview = []
    reader = _ImportReader(member_import=member_import)
    for row, record in reader._records():
        if row in bad_rows or isinstance(record, csv.Error):
            continue
        fields, errors = reader._check(row, record)
        if fields is not None:
            preview.append({"row": row, **fields})
        if len(preview) >= limit:
            break
    return preview


@transaction.atomic
def member_import_confirm(*, member_import: MemberImport) -> bool:
    """Queue the commit of a checked import; a second confirm (a double click) does nothing.

    Returns whether this call queued it. A failed import may be confirmed again.
    """
    claimed = (
        MemberImport.objects.filter(
            pk=member_import.pk,
            status__in=[ImportStatus.PREVIEWED, ImportStatus.FAILED],
            valid_rows__gt=0,
        )
        .exclude(content="")
        .update(status=ImportStatus.QUEUED, message="")
    )
    if claimed:
        from communities.tasks import member_import_commit_task

        enqueue_on_commit(member_import_commit_task, import_id=member_import.pk)
    member_import.refresh_from_db()
    return bool(claimed)


def _import_write(member_import: MemberImport) -> tuple[int, list[dict]]:
    """Insert every row that still passes the check; returns (created, newly failed rows)."""
    community = member_import.community
    policy_version = community.policy_version
    earlier_bad = {error["row"] for error in member_import.errors}
    reader = _ImportReader(member_import=member_import)
    created, newly_failed = 0, []
    now = timezone.now()
    progress_key = member_import_progress_key(member_import.pk)
    for chunk in reader.chunks():
        members = []
        for row, fields, errors in chunk:
            if fields is None:
                if row not in earlier_bad:
                    newly_failed.extend(errors)
                continue
            members.append(
                Member(
                    organisation_id=community.organisation_id,
                    community=community,
                    email=fields["email"],
                    name=fields["name"],
                    phone=fields["phone"],
                    locale=fields["locale"],
                    attributes=fields["attributes"],
                    status=MemberStatus.NEW,
                    joined_at=now,
                    referral_code=referral_code_new(),
                    created_at=now,
                    updated_at=now,
                )
            )
        Member.objects.bulk_create(members)
        member_joined_emit(members=members, organisation_id=community.organisation_id)
        ConsentRecord.objects.bulk_create(
            ConsentRecord(
                organisation_id=community.organisation_id,
                member_id=member.pk,
                purpose=ConsentPurpose.COMMUNITY_TERMS,
                policy_version=policy_version,
                granted=True,
                recorded_at=now,
                channel=ConsentChannel.IMPORT,
            )
            for member in members
        )
        created += len(members)
        cache.set(progress_key, created, timeout=6 * 3600)
    return created, newly_failed


def member_import_commit(*, import_id: int) -> str:
    """Import every good row of a confirmed import in one transaction, or none.

    Rows are re-checked as they are written, so an address that joined since the check is
    skipped and reported, not imported twice. A second run finds the import done.
    """
    member_import = MemberImport.objects.filter(pk=import_id).first()
    if member_import is None:
        return "missing"
    if member_import.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return member_import.status
    # Seen by the page at once; the import itself commits with status done in one go.
    MemberImport.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING
    )
    cache.set(member_import_progress_key(import_id), 0, timeout=6 * 3600)
    status = ImportStatus.FAILED
    for _attempt in range(IMPORT_COMMIT_ATTEMPTS):
        try:
            with transaction.atomic():
                locked = (
                    MemberImport.objects.select_for_update()
                    .select_related("community__organisation")
                    .get(pk=import_id)
                )
                if locked.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
                    return locked.status
                created, newly_failed = _import_write(locked)
                locked.status = status = ImportStatus.DONE
                locked.created_count = created
                locked.processed_rows = locked.total_rows
                locked.finished_at = timezone.now()
                if newly_failed:
                    locked.errors = (locked.errors + newly_failed)[:IMPORT_ERRORS_KEPT]
                    locked.error_count += len(newly_failed)
                    locked.message = _(
                        "%(n)d rows no longer passed the check when they were imported (an "
                        "address may have joined meanwhile) and were skipped; they are in the "
                        "report."
                    ) % {"n": len({e["row"] for e in newly_failed})}
                # The file held personal data; once imported it is not kept.
                locked.content = ""
                locked.save()
            break
        except IntegrityError:
            # Someone joined with an address from the file between our re-check and the
            # insert: nothing was written; the next attempt's re-check skips that row.
            logger.info("member import %s hit a concurrent join; retrying", import_id)
            continue
    else:
        MemberImport.objects.filter(pk=import_id).update(
            status=ImportStatus.FAILED,
            message=_(
                "Nothing was imported: members kept joining with addresses from this file "
                "while it was importing. Confirm again to retry."
            ),
            finished_at=timezone.now(),
        )
    cache.delete(member_import_progress_key(import_id))
    return status
