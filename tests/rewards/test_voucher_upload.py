"""A voucher reward's codes come from a CSV file: one code per row (a "code" column, or one
code per line), trimmed, each row reported (added, duplicate in the file, already in the
pool, empty, too long, unreadable). A file that is not UTF-8 CSV, too large or too long is
refused whole. Codes are secrets: staff pages show counts, row numbers and each code's
last characters, never a whole code.
"""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from communities.choices import Role
from communities.models import AuditEntry
from rewards.models import VoucherCode, VoucherUpload
from rewards.services import voucher_code_hint, voucher_codes_upload
from rewards.services.vouchers import VOUCHER_UPLOAD_MAX_ROWS
from tests.factories.communities import StaffRoleFactory
from tests.factories.rewards import RedemptionFactory, RewardFactory, VoucherCodeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reward(organisation):
    return RewardFactory(organisation=organisation, kind="voucher", stock=None, name="Coffee")


def client_as(organisation, role) -> Client:
    client = Client()
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    return client


def upload(reward, data: bytes, filename: str = "codes.csv") -> VoucherUpload:
    return voucher_codes_upload(reward=reward, actor=None, filename=filename, data=data)


def outcomes(result: VoucherUpload) -> list[tuple[int, str]]:
    return [(entry["row"], entry["outcome"]) for entry in result.report]


def file_error(refused: pytest.ExceptionInfo) -> tuple[str, str]:
    error = refused.value.error_dict["file"][0]
    return error.code, error.messages[0]


# --- the report ----------------------------------------------------------------------------


def test_each_row_is_reported_and_only_new_trimmed_codes_are_added(reward):
    # given: a pool holding one code, and a file with every kind of row
    VoucherCodeFactory(reward=reward, code="OLD-0001")
    data = (
        (
            "code,note\n"
            "  NEW-AAAA1  ,\n"  # row 2: added, trimmed
            "NEW-BBBB2,\n"  # row 3: added
            "NEW-AAAA1,again\n"  # row 4: also on row 2
            "OLD-0001,\n"  # row 5: already in the pool
            ",forgot the code\n"  # row 6: empty
            "\n" + "X" * 101 + ",\n"  # a blank line: skipped, not reported  # row 8: too long
            "BAD\x01CODE,\n"  # row 9: a control character
        ).encode()
    )

    # when
    result = upload(reward, data)

    # then
    assert outcomes(result) == [
        (2, "added"),
        (3, "added"),
        (4, "duplicate_in_file"),
        (5, "in_pool"),
        (6, "empty"),
        (8, "too_long"),
        (9, "invalid"),
    ]
    assert result.report[2]["first_row"] == 2
    assert (result.added, result.refused) == (2, 5)
    assert set(VoucherCode.objects.filter(upload=result).values_list("code", flat=True)) == {
        "NEW-AAAA1",
        "NEW-BBBB2",
    }


def test_the_report_keeps_only_the_last_characters_of_each_code(reward):
    # when
    result = upload(reward, b"code\nSECRET-CODE-9876\n")

    # then: the stored report cannot give the code away
    assert result.report[0]["code"] == "…9876"
    assert "SECRET" not in str(VoucherUpload.objects.get(pk=result.pk).report)


@pytest.mark.parametrize(
    ("code", "hint"), [("ABCDEFGH", "…EFGH"), ("ABCDE", "…DE"), ("AB", "…B"), ("A", "…")]
)
def test_a_short_code_shows_at_most_half_of_itself(code, hint):
    assert voucher_code_hint(code) == hint


def test_a_file_of_one_code_per_line_needs_no_header(reward):
    # when: no header, a BOM, Windows line ends and a blank line
    result = upload(reward, "\ufeffAAA-111\r\nBBB-222\r\n\r\nCCC-333\r\n".encode())

    # then: row numbers as a spreadsheet shows them; the blank line is skipped
    assert outcomes(result) == [(1, "added"), (2, "added"), (4, "added")]


def test_the_code_column_is_found_among_others_with_a_semicolon_separator(reward):
    # when
    result = upload(reward, b"batch;Code;note\n1;ZX-1;a\n1;ZX-2;b\n")

    # then
    assert sorted(reward.codes.values_list("code", flat=True)) == ["ZX-1", "ZX-2"]
    assert outcomes(result) == [(2, "added"), (3, "added")]


def test_codes_differing_only_in_case_are_different_codes(reward):
    result = upload(reward, b"abc-1\nABC-1\n")

    assert result.added == 2


def test_the_upload_is_audited_with_its_counts(reward, organisation):
    result = upload(reward, b"A-1\nA-1\n")

    entry = AuditEntry.objects.get(organisation=organisation, action="voucher_upload.create")
    assert entry.target_id == str(result.pk)
    assert entry.changes == {"added": [None, 1], "refused": [None, 1]}


def test_a_second_upload_refuses_codes_of_the_first(reward):
    upload(reward, b"A-1\nA-2\n")

    second = upload(reward, b"A-2\nA-3\n")

    assert outcomes(second) == [(1, "in_pool"), (2, "added")]
    assert reward.codes.count() == 3


# --- files refused whole -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("code\nKÖLN-1\n".encode("latin-1"), "encoding"),
        ("code\nA-1\n".encode("utf-16"), "encoding"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "encoding"),
        (b"A-1\x00\nA-2\n", "format"),
        (b"code\n\n  \n", "empty"),
        (b"", "empty"),
        (b"name,value\nx,1\n", "no_code_column"),
        (b"x" * (1024 * 1024 + 1), "too_large"),
    ],
    ids=[
        "latin-1",
        "utf-16",
        "png",
        "nul",
        "header-only",
        "empty",
        "no-code-column",
        "over-1mb",
    ],
)
def test_a_file_that_cannot_be_read_as_codes_is_refused_and_adds_nothing(reward, data, code):
    # when
    with pytest.raises(ValidationError) as refused:
        upload(reward, data)

    # then
    assert file_error(refused)[0] == code
    assert not VoucherCode.objects.exists()
    assert not VoucherUpload.objects.exists()


def test_a_file_of_more_than_50000_codes_is_refused_whole(reward):
    data = "".join(f"C{n}\n" for n in range(VOUCHER_UPLOAD_MAX_ROWS + 1)).encode()

    with pytest.raises(ValidationError) as refused:
        upload(reward, data)

    assert file_error(refused)[0] == "too_many_rows"
    assert not VoucherCode.objects.exists()


def test_a_reward_of_another_kind_takes_no_codes(organisation):
    perk = RewardFactory(organisation=organisation, kind="perk")

    with pytest.raises(ValidationError) as refused:
        upload(perk, b"A-1\n")

    assert file_error(refused)[0] == "not_voucher"


# --- the pages -----------------------------------------------------------------------------


def test_an_admin_uploads_a_file_and_sees_its_report_without_whole_codes(reward, organisation):
    # given
    client = client_as(organisation, Role.ADMIN)
    page_url = reverse("staff:voucher_upload", args=[organisation.slug, reward.pk])
    csv_file = SimpleUploadedFile("codes.csv", b"code\nWELCOME-7788\nWELCOME-7788\n")

    # when
    response = client.post(page_url, {"file": csv_file}, follow=True)

    # then: the report page, with row numbers and outcomes, and no whole code
    result = VoucherUpload.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "staff:voucher_upload_detail", args=[organisation.slug, result.pk]
    )
    html = response.content.decode()
    assert "…7788" in html and "WELCOME-7788" not in html
    assert "Also on an earlier row of this file" in html
    # and the upload page counts the pool without showing it
    pool = client.get(page_url).content.decode()
    assert "WELCOME-7788" not in pool
    assert result.filename in pool


def test_the_report_can_show_only_the_refused_rows(reward, organisation):
    result = upload(reward, b"A-1\nA-1\nA-2\n")
    url = reverse("staff:voucher_upload_detail", args=[organisation.slug, result.pk])

    page = client_as(organisation, Role.ANALYST).get(url, {"show": "problems"})

    assert [row["row"] for row in page.context["rows"]] == [2]


def test_handed_out_codes_are_counted_never_shown(reward, organisation):
    # given: a code handed out to a member, one still free
    redemption = RedemptionFactory(reward=reward, member__community=reward.community)
    VoucherCodeFactory(reward=reward, code="GIVEN-1234", redemption=redemption)
    VoucherCodeFactory(reward=reward, code="FREE-5678")

    # when
    page = client_as(organisation, Role.ANALYST).get(
        reverse("staff:voucher_upload", args=[organisation.slug, reward.pk])
    )

    # then
    assert page.context["counts"] == {"total": 2, "free": 1, "assigned": 1}
    assert "GIVEN-1234" not in page.content.decode()


def test_a_bad_file_is_shown_again_with_its_error_and_adds_nothing(reward, organisation):
    client = client_as(organisation, Role.OWNER)
    url = reverse("staff:voucher_upload", args=[organisation.slug, reward.pk])

    page = client.post(url, {"file": SimpleUploadedFile("codes.csv", "é\n".encode("latin-1"))})

    assert page.status_code == 400
    assert "not UTF-8" in page.context["form"].errors["file"][0]
    assert not VoucherCode.objects.exists()


def test_an_empty_or_missing_file_is_refused_by_the_form(reward, organisation):
    client = client_as(organisation, Role.OWNER)
    url = reverse("staff:voucher_upload", args=[organisation.slug, reward.pk])

    missing = client.post(url, {})
    empty = client.post(url, {"file": SimpleUploadedFile("codes.csv", b"")})

    assert missing.status_code == empty.status_code == 400
    assert not VoucherUpload.objects.exists()


def test_analysts_see_the_pool_but_cannot_upload(reward, organisation):
    client = client_as(organisation, Role.ANALYST)
    url = reverse("staff:voucher_upload", args=[organisation.slug, reward.pk])

    page = client.get(url)
    posted = client.post(url, {"file": SimpleUploadedFile("codes.csv", b"A-1\n")})

    assert page.status_code == 200 and 'type="file"' not in page.content.decode()
    assert posted.status_code == 403
    assert not VoucherCode.objects.exists()


def test_a_reward_of_another_kind_has_no_codes_page(organisation):
    perk = RewardFactory(organisation=organisation, kind="perk")

    page = client_as(organisation, Role.OWNER).get(
        reverse("staff:voucher_upload", args=[organisation.slug, perk.pk])
    )

    assert page.status_code == 404


def test_another_organisations_reward_and_upload_answer_404(reward, other_organisation):
    # given: an owner of another organisation
    client = client_as(other_organisation, Role.OWNER)
    result = upload(reward, b"A-1\n")

    # when: they use this organisation's ids under their own organisation's URL
    codes = client.post(
        reverse("staff:voucher_upload", args=[other_organisation.slug, reward.pk]),
        {"file": SimpleUploadedFile("codes.csv", b"B-1\n")},
    )
    report = client.get(
        reverse("staff:voucher_upload_detail", args=[other_organisation.slug, result.pk])
    )

    # then
    assert codes.status_code == report.status_code == 404
    assert reward.codes.count() == 1
