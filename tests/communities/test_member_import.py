"""Staff import members from a CSV: checked into a per-row report, then all good rows or none."""

import csv
import io
import time

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse

from communities.choices import AttributeKind, ConsentChannel, ImportStatus, MemberStatus, Role
from communities.models import ConsentRecord, Member, MemberImport
from communities.services import imports as import_services
from communities.services import (
    member_import_check,
    member_import_commit,
    member_import_confirm,
    member_import_create,
)
from tests.factories.communities import (
    AttributeDefinitionFactory,
    CommunityFactory,
    MemberFactory,
    MemberImportFactory,
    StaffRoleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def attributes(community):
    return {
        "city": AttributeDefinitionFactory(community=community, key="city"),
        "age": AttributeDefinitionFactory(
            community=community, key="age", kind=AttributeKind.NUMBER
        ),
        "age_band": AttributeDefinitionFactory(community=community, age_band=True),
    }


def csv_bytes(rows: list[list], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def upload(client, community, data: bytes, *, consent: bool = True, name: str = "people.csv"):
    url = reverse("staff:member_import_create", args=[community.organisation.slug, community.pk])
    body = {"file": SimpleUploadedFile(name, data, content_type="text/csv")}
    if consent:
        body["consent_confirmed"] = "on"
    return client.post(url, body)


def imported(community, data: bytes, django_capture_on_commit_callbacks) -> MemberImport:
    """Create an import and run its check, as the queued task would."""
    with django_capture_on_commit_callbacks(execute=True):
        member_import = member_import_create(
            community=community, filename="people.csv", data=data, consent_confirmed=True
        )
    member_import.refresh_from_db()
    return member_import


def confirm(member_import, django_capture_on_commit_callbacks) -> MemberImport:
    with django_capture_on_commit_callbacks(execute=True):
        member_import_confirm(member_import=member_import)
    member_import.refresh_from_db()
    return member_import


MIXED = [
    ["email", "name", "language", "city", "age", "age_band"],
    ["ann@example.com", "Ann", "th", "Bangkok", "31", "25-34"],  # row 2: good
    ["not-an-email", "Bob", "en", "", "", ""],  # row 3: bad email
    ["", "Cy", "", "", "", ""],  # row 4: missing email
    ["ANN@example.com", "Ann again", "", "", "", ""],  # row 5: duplicate of row 2
    ["dee@example.com", "Dee", "", "", "forty", ""],  # row 6: bad number
    ["eve@example.com", "Eve", "xx", "", "", "99+"],  # row 7: bad language, bad choice
    ["existing@example.com", "Old", "", "", "", ""],  # row 8: already a member
    ["fay@example.com", "Fay", "", "Chiang Mai", "", "35+"],  # row 9: good
]


# --- the check ----------------------------------------------------------------------------


def test_check_reports_each_bad_row_with_row_column_and_reason(
    community, attributes, django_capture_on_commit_callbacks
):
    # given a file with good rows and every kind of bad row, and one existing member
    MemberFactory(community=community, email="existing@example.com")
    # when it is uploaded and checked
    member_import = imported(community, csv_bytes(MIXED), django_capture_on_commit_callbacks)
    # then the counts and the per-row report say exactly what is wrong where
    assert member_import.status == ImportStatus.PREVIEWED
    assert (member_import.total_rows, member_import.valid_rows) == (8, 2)
    report = {(e["row"], e["column"]): e["message"] for e in member_import.errors}
    assert report[(3, "email")] == "Enter a valid email address."
    assert report[(4, "email")] == "The email address is missing."
    assert "also on row 2" in report[(5, "email")]
    assert report[(6, "age")] == "Enter a number."
    assert (7, "language") in report and report[(7, "age_band")].startswith("Choose one of")
    assert report[(8, "email")] == "This address is already a member of this community."
    assert member_import.error_count == len(member_import.errors) == 7
    # and nothing is imported before the staff confirm
    assert not Member.objects.filter(email="ann@example.com").exists()


def test_check_reports_an_unknown_column_once_and_still_checks_the_rows(
    community, attributes, django_capture_on_commit_callbacks
):
    data = csv_bytes([["email", "shoe_size"], ["ann@example.com", "42"]])
    member_import = imported(community, data, django_capture_on_commit_callbacks)
    assert member_import.valid_rows == 1
    [error] = member_import.errors
    assert (error["row"], error["column"]) == (1, "shoe_size")
    assert "no attribute “shoe_size”" in error["message"]


def test_check_accepts_a_byte_order_mark_semicolons_and_header_case(
    community, attributes, django_capture_on_commit_callbacks
):
    data = "\ufeffEmail; Name ;City\nann@example.com;Ann;Bangkok\n".encode()
    member_import = imported(community, data, django_capture_on_commit_callbacks)
    assert (member_import.valid_rows, member_import.errors) == (1, [])


def test_a_row_with_more_cells_than_columns_is_reported(
    community, django_capture_on_commit_callbacks
):
    data = b"email,name\nann@example.com,Ann,surplus\n"
    member_import = imported(community, data, django_capture_on_commit_callbacks)
    assert member_import.valid_rows == 0
    assert "more cells" in member_import.errors[0]["message"]


def test_running_the_check_twice_changes_nothing(community, django_capture_on_commit_callbacks):
    member_import = imported(
        community, csv_bytes([["email"], ["a@example.com"]]), django_capture_on_commit_callbacks
    )
    assert member_import_check(import_id=member_import.pk) == "skipped"
    member_import.refresh_from_db()
    assert (member_import.status, member_import.valid_rows) == (ImportStatus.PREVIEWED, 1)


# --- refusing a file at upload ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("email,name\nzoë@example.com,Zoë\n".encode("latin-1"), "not UTF-8"),
        ("email\nann@example.com\n".encode("utf-16"), "UTF-16"),
        (b"name,city\nAnn,Bangkok\n", "one must be called “email”"),
        (b"", "file is empty"),
        (b"\n\n", "The file is empty"),
        (b"email,email\na@example.com,b@example.com\n", "appears twice"),
    ],
)
def test_upload_refuses_a_file_it_cannot_read_with_a_clear_reason(
    staff_client, community, data, message
):
    page = upload(staff_client, community, data)
    assert page.status_code == 400
    assert message in page.content.decode()
    assert not MemberImport.objects.exists()


def test_upload_refuses_a_file_over_20_mb(staff_client, community, monkeypatch):
    monkeypatch.setattr(import_services, "IMPORT_MAX_BYTES", 1024)
    monkeypatch.setattr("communities.forms.staff.IMPORT_MAX_BYTES", 1024)
    page = upload(staff_client, community, b"email\n" + b"a@example.com\n" * 200)
    assert page.status_code == 400
    assert "larger than" in page.content.decode()
    assert not MemberImport.objects.exists()


def test_upload_needs_the_consent_box_ticked(staff_client, community):
    page = upload(staff_client, community, b"email\nann@example.com\n", consent=False)
    assert page.status_code == 400
    assert "Import only people who agreed to join" in page.content.decode()
    assert not MemberImport.objects.exists()


def test_upload_without_a_file_is_a_form_error(staff_client, community):
    url = reverse("staff:member_import_create", args=[community.organisation.slug, community.pk])
    page = staff_client.post(url, {"consent_confirmed": "on"})
    assert page.status_code == 400 and not MemberImport.objects.exists()


def test_uploads_are_rate_limited_per_organisation(staff_client, community):
    for _ in range(10):
        assert upload(staff_client, community, b"email\nann@example.com\n").status_code == 302
    page = upload(staff_client, community, b"email\nann@example.com\n")
    assert page.status_code == 429
    assert MemberImport.objects.count() == 10


def test_upload_only_saves_the_file_and_queues_the_check(
    staff_client, community, django_capture_on_commit_callbacks
):
    # when a file is uploaded
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = upload(staff_client, community, b"email\nann@example.com\n")
    # then the request saved it for checking and queued exactly one task after commit
    member_import = MemberImport.objects.get()
    assert page.status_code == 302
    assert page["Location"].endswith(f"/imports/{member_import.pk}/")
    assert member_import.status == ImportStatus.CHECKING and len(callbacks) == 1


def test_analyst_may_not_import(client, community):
    client.force_login(
        StaffRoleFactory(organisation=community.organisation, role=Role.ANALYST).user
    )
    assert upload(client, community, b"email\nann@example.com\n").status_code == 403


# --- confirming and committing ------------------------------------------------------------


def test_confirm_imports_every_good_row_with_consent_recorded_as_import(
    community, attributes, django_capture_on_commit_callbacks
):
    # given a checked file with two good rows
    MemberFactory(community=community, email="existing@example.com")
    member_import = imported(community, csv_bytes(MIXED), django_capture_on_commit_callbacks)
    # when the import is confirmed
    member_import = confirm(member_import, django_capture_on_commit_callbacks)
    # then exactly the good rows are members, with their values and a consent record each
    assert member_import.status == ImportStatus.DONE and member_import.created_count == 2
    ann = Member.objects.get(community=community, email="ann@example.com")
    assert (ann.name, ann.locale, ann.status) == ("Ann", "th", MemberStatus.NEW)
    assert ann.attributes == {"city": "Bangkok", "age": 31, "age_band": "25-34"}
    assert ann.referral_code and ann.joined_at is not None
    consent = ConsentRecord.objects.get(member=ann)
    assert (consent.channel, consent.granted, consent.policy_version) == (
        ConsentChannel.IMPORT,
        True,
        community.policy_version,
    )
    assert Member.objects.filter(community=community).count() == 3
    # and the uploaded file is not kept once imported
    assert member_import.content == ""


def test_a_double_confirm_imports_once(community, django_capture_on_commit_callbacks):
    member_import = imported(
        community, csv_bytes([["email"], ["a@example.com"]]), django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert member_import_confirm(member_import=member_import) is True
        assert member_import_confirm(member_import=member_import) is False
    assert len(callbacks) == 1


def test_double_click_on_confirm_through_the_page_imports_once(
    staff_client, community, django_capture_on_commit_callbacks
):
    member_import = imported(
        community, csv_bytes([["email"], ["a@example.com"]]), django_capture_on_commit_callbacks
    )
    url = reverse(
        "staff:member_import_confirm", args=[community.organisation.slug, member_import.pk]
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = staff_client.post(url)
    with django_capture_on_commit_callbacks(execute=True):
        second = staff_client.post(url, follow=True)
    assert first.status_code == 302
    assert "imported already" in second.content.decode()
    assert Member.objects.filter(community=community).count() == 1
    assert ConsentRecord.objects.filter(member__community=community).count() == 1


def test_commit_run_twice_imports_once(community, django_capture_on_commit_callbacks):
    member_import = imported(
        community, csv_bytes([["email"], ["a@example.com"]]), django_capture_on_commit_callbacks
    )
    member_import = confirm(member_import, django_capture_on_commit_callbacks)
    assert member_import_commit(import_id=member_import.pk) == ImportStatus.DONE
    assert Member.objects.filter(community=community).count() == 1


def test_commit_skips_an_address_that_joined_after_the_check(
    community, django_capture_on_commit_callbacks
):
    # given a checked file, and one of its people joins before the staff confirm
    member_import = imported(
        community,
        csv_bytes([["email"], ["a@example.com"], ["b@example.com"]]),
        django_capture_on_commit_callbacks,
    )
    MemberFactory(community=community, email="b@example.com")
    # when the import is confirmed
    member_import = confirm(member_import, django_capture_on_commit_callbacks)
    # then the other row is imported and the late one is reported, not duplicated
    assert (member_import.status, member_import.created_count) == (ImportStatus.DONE, 1)
    assert "skipped" in member_import.message
    assert member_import.errors[-1]["row"] == 3
    assert Member.objects.filter(community=community, email="b@example.com").count() == 1


def test_a_failure_midway_imports_nothing(
    community, django_capture_on_commit_callbacks, monkeypatch
):
    # given a file of 2,500 rows (three insert batches)
    rows = [["email"], *([f"p{n}@example.com"] for n in range(2500))]
    member_import = imported(community, csv_bytes(rows), django_capture_on_commit_callbacks)
    # and the database refuses the third batch every time
    real = Member.objects.bulk_create
    calls = {"n": 0}

    def flaky(objs, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise IntegrityError("refused")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(Member.objects, "bulk_create", flaky)
    # when it is confirmed
    member_import = confirm(member_import, django_capture_on_commit_callbacks)
    # then no member and no consent was written, and the staff are told
    assert member_import.status == ImportStatus.FAILED
    assert "Nothing was imported" in member_import.message
    assert not Member.objects.filter(community=community).exists()
    assert not ConsentRecord.objects.filter(member__community=community).exists()


def test_progress_of_a_commit_is_visible_in_the_cache(
    community, django_capture_on_commit_callbacks, monkeypatch
):
    rows = [["email"], *([f"p{n}@example.com"] for n in range(1500))]
    member_import = imported(community, csv_bytes(rows), django_capture_on_commit_callbacks)
    seen = []
    real = import_services.ConsentRecord.objects.bulk_create

    def spy(objs, *args, **kwargs):
        result = real(objs, *args, **kwargs)
        seen.append(cache.get(import_services.member_import_progress_key(member_import.pk)))
        return result

    monkeypatch.setattr(import_services.ConsentRecord.objects, "bulk_create", spy)
    confirm(member_import, django_capture_on_commit_callbacks)
    assert seen == [0, 1000]


def test_fifty_thousand_rows_import_in_reasonable_time(
    community, django_capture_on_commit_callbacks
):
    # given 50,000 rows with two attributes
    AttributeDefinitionFactory(community=community, key="city")
    AttributeDefinitionFactory(community=community, key="age", kind=AttributeKind.NUMBER)
    rows = [["email", "name", "city", "age"]]
    rows += [
        [f"person{n}@example.com", f"Person {n}", "Bangkok", str(18 + n % 60)]
        for n in range(50_000)
    ]
    started = time.monotonic()
    member_import = imported(community, csv_bytes(rows), django_capture_on_commit_callbacks)
    assert member_import.valid_rows == 50_000
    member_import = confirm(member_import, django_capture_on_commit_callbacks)
    # then all are members with a consent record each (the time bound is generous: this is
    # about a request-free import finishing, not a benchmark)
    assert member_import.created_count == 50_000
    assert Member.objects.filter(community=community).count() == 50_000
    assert ConsentRecord.objects.filter(member__community=community).count() == 50_000
    assert time.monotonic() - started < 120


# --- the import page ----------------------------------------------------------------------


def test_import_page_shows_preview_errors_and_the_confirm_button(
    staff_client, community, attributes, django_capture_on_commit_callbacks
):
    MemberFactory(community=community, email="existing@example.com")
    member_import = imported(community, csv_bytes(MIXED), django_capture_on_commit_callbacks)
    url = reverse(
        "staff:member_import_detail", args=[community.organisation.slug, member_import.pk]
    )
    page = staff_client.get(url).content.decode()
    assert "ann@example.com" in page and "fay@example.com" in page  # the preview
    assert "Enter a valid email address." in page and "not-an-email" in page  # the report
    assert "Import 2 members" in page


def test_import_page_answers_progress_as_json(staff_client, community):
    member_import = MemberImportFactory(
        community=community, status=ImportStatus.CHECKING, total_rows=200, processed_rows=50
    )
    url = reverse(
        "staff:member_import_detail", args=[community.organisation.slug, member_import.pk]
    )
    body = staff_client.get(url + "?format=json").json()
    assert body == {
        "status": "checking",
        "done": 50,
        "total": 200,
        "percent": 25,
        "finished": False,
    }


def test_error_report_downloads_as_csv_with_formulas_defused(
    staff_client, community, django_capture_on_commit_callbacks
):
    member_import = imported(
        community, csv_bytes([["email"], ["=HYPERLINK(1)"]]), django_capture_on_commit_callbacks
    )
    url = reverse(
        "staff:member_import_errors", args=[community.organisation.slug, member_import.pk]
    )
    response = staff_client.get(url)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "value", "problem"]
    assert rows[1][:3] == ["2", "email", "'=HYPERLINK(1)"]


def test_another_organisations_import_is_not_found(staff_client, organisation, other_organisation):
    foreign = MemberImportFactory(community=CommunityFactory(organisation=other_organisation))
    for name in ("member_import_detail", "member_import_errors"):
        url = reverse(f"staff:{name}", args=[organisation.slug, foreign.pk])
        assert staff_client.get(url).status_code == 404
    confirm_url = reverse("staff:member_import_confirm", args=[organisation.slug, foreign.pk])
    assert staff_client.post(confirm_url).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == ImportStatus.PREVIEWED


def test_import_page_shows_progress_while_checking(staff_client, community):
    member_import = MemberImportFactory(
        community=community, status=ImportStatus.CHECKING, total_rows=200, processed_rows=50
    )
    url = reverse(
        "staff:member_import_detail", args=[community.organisation.slug, member_import.pk]
    )
    page = staff_client.get(url).content.decode()
    assert 'id="import-done">50<' in page and 'id="import-total">200<' in page
    assert "js/import_progress.js" in page and "import-confirm" not in page


def test_a_file_over_the_row_limit_fails_with_a_message(
    community, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(import_services, "IMPORT_MAX_ROWS", 10)
    monkeypatch.setattr(import_services, "IMPORT_BATCH", 5)
    rows = [["email"], *([f"p{n}@example.com"] for n in range(20))]
    member_import = imported(community, csv_bytes(rows), django_capture_on_commit_callbacks)
    assert member_import.status == ImportStatus.FAILED
    assert "more than 10 rows" in member_import.message
    assert member_import_confirm(member_import=member_import) is False
