"""A response's day is its organisation's day (issue 16): an organisation in Asia/Bangkok
(UTC+7) cuts its days at its own midnight, 17:00 UTC, not the server's. The day a response
is stored under decides every date filter, so the dashboard, the results page and API (from
roll-ups or a scan) and the CSV export count the same responses for the same dates. The
upgrade's data migration moves the responses stored before on the server's day."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from types import SimpleNamespace
from unittest import mock

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from insights.rollups.fold import rollups_fold_all
from surveys.exports.params import ExportParams
from surveys.exports.selectors import export_responses
from surveys.metrics import components_add
from surveys.models import Response
from surveys.selectors_results import results_counts_scan, results_reader
from surveys.services import response_submit
from tests.factories.communities import OrganisationFactory
from tests.factories.surveys import ResponseFactory, survey_with_every_question_type
from tests.surveys.exports.helpers import csv_rows, csv_url
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MARCH_9, MARCH_10 = dt.date(2026, 3, 9), dt.date(2026, 3, 10)
# When each response is sent (UTC) and the day it is in Bangkok.
SENT = [
    (dt.datetime(2026, 3, 9, 16, 30, tzinfo=UTC), MARCH_9),  # 23:30 in Bangkok
    (dt.datetime(2026, 3, 9, 17, 30, tzinfo=UTC), MARCH_10),  # 00:30 in Bangkok
    (dt.datetime(2026, 3, 9, 23, 30, tzinfo=UTC), MARCH_10),  # 06:30 in Bangkok
    (dt.datetime(2026, 3, 10, 0, 30, tzinfo=UTC), MARCH_10),  # 07:30 in Bangkok
]
K = 2

migration = importlib.import_module("surveys.migrations.0009_hot_path")


def submit_at(survey, at: dt.datetime) -> Response:
    """A response sent through the submit path at `at`."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        result = response_submit(
            survey=survey, raw_answers=answers_for(survey), idempotency_key=uuid.uuid4().hex
        )
    return result.response


@pytest.fixture
def bangkok(organisation, community):
    organisation.time_zone = "Asia/Bangkok"
    organisation.min_group_size = K
    organisation.save(update_fields=["time_zone", "min_group_size"])
    survey = survey_with_every_question_type(organisation=organisation, community=community)
    survey.refresh_from_db()
    return SimpleNamespace(
        organisation=organisation,
        survey=survey,
        responses=[submit_at(survey, at) for at, _day in SENT],
    )


def test_each_response_is_stored_under_its_organisations_day(bangkok):
    # when
    stored = {r.pk: r.submitted_on for r in Response.objects.filter(survey=bangkok.survey)}

    # then: the day in Bangkok, not in UTC (the server's zone)
    assert [stored[r.pk] for r in bangkok.responses] == [day for _at, day in SENT]
    # and the response handed back says the same as the row
    assert [r.submitted_on for r in bangkok.responses] == [day for _at, day in SENT]


def test_an_organisation_in_utc_keeps_the_utc_day(other_organisation):
    # given
    survey = survey_with_every_question_type(organisation=other_organisation)

    # when
    late, early = (submit_at(survey, at) for at, _day in (SENT[2], SENT[3]))

    # then
    assert (late.submitted_on, early.submitted_on) == (MARCH_9, MARCH_10)


def test_an_unknown_zone_name_counts_days_in_utc(other_organisation):
    # given: a name no zone database knows (saved around the form's check)
    other_organisation.time_zone = "Mars/Olympus_Mons"
    other_organisation.save(update_fields=["time_zone"])
    survey = survey_with_every_question_type(organisation=other_organisation)
    survey.refresh_from_db()

    # when
    response = submit_at(survey, SENT[2][0])

    # then
    assert response.submitted_on == MARCH_9


def _dashboard_count(client, organisation, since: dt.date, until: dt.date) -> int | None:
    page = client.get(
        reverse("staff:insights_dashboard", args=[organisation.slug]),
        {"start": since.isoformat(), "end": until.isoformat()},
    )
    assert page.status_code == 200
    headline = page.context["board"].headline  # None when the whole board is withheld
    return headline.responses if headline is not None else None


def _api_count(client, organisation, survey, since: dt.date, until: dt.date) -> int | None:
    reply = client.get(
        reverse("api:survey_results", args=[organisation.slug, survey.pk]),
        {"since": since.isoformat(), "until": until.isoformat()},
    )
    assert reply.status_code == 200, reply.content
    return reply.json()["responses"]


def _page_count(client, organisation, survey, since: dt.date, until: dt.date) -> int | None:
    page = client.get(
        reverse("staff:survey_results", args=[organisation.slug, survey.pk]),
        {"since": since.isoformat(), "until": until.isoformat()},
    )
    assert page.status_code == 200
    return page.context["results"].responses


def _csv_count(client, organisation, survey, since: dt.date, until: dt.date) -> int | None:
    reply = client.get(
        csv_url(organisation, survey), {"since": since.isoformat(), "until": until.isoformat()}
    )
    if reply.status_code == 400:  # fewer responses than the minimum group: no export
        return None
    return len(csv_rows(reply)) - 1  # the header


@pytest.mark.parametrize("folded", [False, True], ids=["live", "folded"])
@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [(MARCH_10, MARCH_10, 3), (MARCH_9, MARCH_10, 4), (MARCH_9, MARCH_9, 1)],
)
def test_every_page_counts_the_same_responses_for_the_same_dates(
    bangkok, staff_client, since, until, expected, folded
):
    # given: the roll-ups folded or not
    organisation, survey, client = bangkok.organisation, bangkok.survey, staff_client
    if folded:
        rollups_fold_all()
    params = ExportParams(since=since, until=until)

    # when
    exported = export_responses(organisation=organisation, survey=survey, params=params)
    scanned = results_counts_scan(organisation=organisation, survey=survey, params=params)
    read = results_reader()(organisation=organisation, survey=survey, params=params)

    # then: the selectors agree with the Bangkok days
    assert exported.count() == expected
    assert components_add([scanned.total])["responses"] == expected
    assert components_add([read.total])["responses"] == expected
    # and so do the CSV and, where the group is large enough to show, every page
    shown = expected if expected >= K else None
    assert _csv_count(client, organisation, survey, since, until) == shown
    assert _dashboard_count(client, organisation, since, until) == shown
    assert _api_count(client, organisation, survey, since, until) == shown
    assert _page_count(client, organisation, survey, since, until) == shown


def test_the_migration_moves_responses_stored_on_the_servers_day(bangkok, other_organisation):
    # given: rows stored before the fix, under the UTC day, and another tenant's in UTC
    Response.objects.filter(survey=bangkok.survey).delete()
    old = [
        ResponseFactory(survey=bangkok.survey, submitted_at=at, submitted_on=at.date())
        for at, _day in SENT
    ]
    theirs = ResponseFactory(
        survey=survey_with_every_question_type(organisation=other_organisation),
        submitted_at=SENT[2][0],
        submitted_on=MARCH_9,
    )

    # when
    changed = migration.submitted_on_recompute(apps, SimpleNamespace(connection=connection))

    # then: the two sent between Bangkok's midnight and UTC's move to Bangkok's day
    assert changed == 2
    days = dict(Response.objects.values_list("pk", "submitted_on"))
    assert [days[r.pk] for r in old] == [day for _at, day in SENT]
    assert days[theirs.pk] == MARCH_9
    # and running it again changes nothing
    assert migration.submitted_on_recompute(apps, SimpleNamespace(connection=connection)) == 0


def test_the_migration_does_nothing_when_every_organisation_is_in_the_servers_zone():
    # given
    organisation = OrganisationFactory(time_zone="UTC")
    response = ResponseFactory(
        survey=survey_with_every_question_type(organisation=organisation),
        submitted_at=SENT[2][0],
    )

    # when
    changed = migration.submitted_on_recompute(apps, SimpleNamespace(connection=connection))

    # then
    assert changed == 0
    response.refresh_from_db()
    assert response.submitted_on == MARCH_9
