"""The export page and the results page's Export block: options, a streamed CSV, a file
queued for the worker, the audit log, and a bounded number of queries."""

import pytest
from django.urls import reverse

from communities.models import AuditEntry
from surveys.models import ExportJob
from tests.factories.surveys import AnswerFactory, ResponseFactory
from tests.surveys.exports.helpers import csv_rows, csv_url

pytestmark = pytest.mark.django_db


def _page(organisation, survey) -> str:
    return reverse("staff:survey_export", args=[organisation.slug, survey.pk])


def test_results_page_offers_the_export_with_format_language_and_codes(
    staff_client, organisation, seeded
):
    page = staff_client.get(
        reverse("staff:survey_results", args=[organisation.slug, seeded.survey.pk])
    )
    text = page.content.decode()
    assert 'id="export-block"' in text
    assert f'action="{_page(organisation, seeded.survey)}"' in text
    for field in ('name="format"', 'name="labels"', 'name="codes"'):
        assert field in text


def test_results_page_export_keeps_the_pages_filters(staff_client, organisation, seeded):
    page = staff_client.get(
        reverse("staff:survey_results", args=[organisation.slug, seeded.survey.pk]),
        {"since": "2026-03-01", "channel": "kiosk", "page": "2"},
    )
    text = page.content.decode()
    assert '<input type="hidden" name="since" value="2026-03-01">' in text
    assert '<input type="hidden" name="channel" value="kiosk">' in text
    assert 'name="page"' not in text


def test_export_page_shows_the_options_in_the_staff_members_language(
    staff_client, organisation, seeded
):
    page = staff_client.get(_page(organisation, seeded.survey))
    assert page.status_code == 200
    assert page.context["form"].initial["labels"] == "en"
    assert 'id="export-jobs"' not in page.content.decode()


def test_posting_csv_streams_the_same_rows_as_the_link(staff_client, organisation, seeded):
    posted = staff_client.post(
        _page(organisation, seeded.survey), {"format": "csv", "labels": "th", "codes": "1"}
    )
    linked = staff_client.get(csv_url(organisation, seeded.survey), {"labels": "th", "codes": "1"})
    assert csv_rows(posted) == csv_rows(linked)


def test_posting_a_file_format_queues_a_job_after_commit(
    staff_client, organisation, seeded, django_capture_on_commit_callbacks
):
    # when the staff member asks for an Excel file of kiosk answers
    with django_capture_on_commit_callbacks() as callbacks:
        page = staff_client.post(
            _page(organisation, seeded.survey),
            {"format": "xlsx", "labels": "ja", "channel": "kiosk"},
        )
    # then a job is queued with the options, and its page is where they land
    job = ExportJob.objects.get()
    assert page.status_code == 302
    assert page["Location"] == reverse("staff:export_job", args=[organisation.slug, job.pk])
    assert (job.format, job.status, job.rows_total) == ("xlsx", "queued", 4)
    assert job.params == {"labels": "ja", "channel": "kiosk"}
    assert job.requested_by.email == "staff@example.com"
    # and the worker is told only once the job is committed
    assert len(callbacks) == 1


def test_a_refused_file_export_queues_nothing(staff_client, organisation, seeded):
    page = staff_client.post(
        _page(organisation, seeded.survey), {"format": "xlsx", "language": "th"}
    )
    assert page.status_code == 400
    assert "Only 1 response matches" in page.content.decode()
    assert not ExportJob.objects.exists()


def test_a_bad_format_is_a_clear_400(staff_client, organisation, seeded):
    page = staff_client.post(_page(organisation, seeded.survey), {"format": "pdf"})
    assert page.status_code == 400
    assert "Choose a format from the list." in page.content.decode()


def test_every_export_is_recorded_in_the_audit_log(staff_client, staff_user, organisation, seeded):
    # when a CSV is streamed and a file queued
    csv_body = staff_client.get(csv_url(organisation, seeded.survey), {"labels": "th"})
    b"".join(csv_body.streaming_content)
    staff_client.post(_page(organisation, seeded.survey), {"format": "xlsx", "labels": "en"})
    # then the log says who took which survey's responses, and how
    entries = AuditEntry.objects.filter(action="responses.export").order_by("pk")
    assert [(e.actor, e.target_type, e.target_id) for e in entries] == [
        (staff_user, "survey", str(seeded.survey.pk))
    ] * 2
    assert "csv, labels=th" in entries[0].target_label
    assert "xlsx, labels=en" in entries[1].target_label


def _more_responses(survey, count: int) -> None:
    question = survey.questions.order_by("position").first()
    for n in range(count):
        AnswerFactory(response=ResponseFactory(survey=survey), question=question, number=n % 11)


@pytest.mark.parametrize("extra", [0, 60])
def test_csv_export_queries_do_not_grow_with_responses(
    staff_client, organisation, seeded, django_assert_max_num_queries, extra
):
    # given 6 or 66 responses
    _more_responses(seeded.survey, extra)
    # then the export runs the same handful of statements (the role, the survey, the
    # plan's seven reads, the audit entry, the pivot; on PostgreSQL savepoints around
    # the audit entry and the pivot's SET LOCAL, as the test runs in a transaction)
    with django_assert_max_num_queries(17):
        rows = csv_rows(staff_client.get(csv_url(organisation, seeded.survey)))
    assert len(rows) == 7 + extra
