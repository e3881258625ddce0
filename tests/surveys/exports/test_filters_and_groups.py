"""The export's filters, the minimum group size k (refusal, blanking, complementary
suppression) and bad options, on the seeded set of conftest.py (k = 2)."""

import pytest

from tests.factories.communities import LocationFactory, OrganisationFactory
from tests.factories.surveys import ResponseFactory
from tests.surveys.exports.helpers import csv_rows, csv_url

pytestmark = pytest.mark.django_db


def _ids(rows) -> list[str]:
    return [row[0] for row in rows[1:]]


def _export(client, organisation, seeded, **query):
    return client.get(csv_url(organisation, seeded.survey), query)


def test_dates_are_days_in_the_organisations_time_zone(staff_client, organisation, seeded):
    # given R6 was given at 23:00 UTC on 31 March, which is 1 April in Bangkok
    # when March is exported
    rows = csv_rows(
        _export(staff_client, organisation, seeded, since="2026-03-01", until="2026-03-31")
    )
    # then R6 is not in it, and every other response is
    assert _ids(rows) == [str(seeded.r[n].pk) for n in (1, 2, 3, 4, 5)]


def test_both_ends_of_the_date_range_are_included(staff_client, organisation, seeded):
    rows = csv_rows(
        _export(staff_client, organisation, seeded, since="2026-03-03", until="2026-03-06")
    )
    assert _ids(rows) == [str(seeded.r[n].pk) for n in (2, 3, 4, 5)]


def test_the_link_channel_includes_answers_without_a_channel(staff_client, organisation, seeded):
    # given R4 has no channel (the public link) and R6 came through the link channel
    rows = csv_rows(_export(staff_client, organisation, seeded, channel="link"))
    assert _ids(rows) == [str(seeded.r[4].pk), str(seeded.r[6].pk)]
    # and R4, alone from Siam in this export, is still not placed in its store
    assert rows[1][1:5] == ["2026-03-04", "", "ja", ""]


def test_language_filter_keeps_answers_given_in_that_language(staff_client, organisation, seeded):
    rows = csv_rows(_export(staff_client, organisation, seeded, language="en"))
    assert _ids(rows) == [str(seeded.r[n].pk) for n in (1, 3, 6)]
    # Siam's kiosk holds two of them: enough to be shown
    assert rows[1][4] == "Siam" and rows[2][4] == "Siam"


def test_one_small_group_alone_is_hidden_with_the_next_smallest(staff_client, organisation, seeded):
    # given the kiosk answers: Siam's kiosk 3 (R1-R3) and Chiang Mai's 1 (R5)
    # when kiosks are exported, Chiang Mai's single answer is under k; hidden alone, the
    # blank row would be Chiang Mai's (results pages show Siam's 3 kiosk answers)
    rows = csv_rows(_export(staff_client, organisation, seeded, channel="kiosk"))
    # then the next-smallest group, Siam's kiosk, is hidden with it
    assert _ids(rows) == [str(seeded.r[n].pk) for n in (1, 2, 3, 5)]
    assert all(row[2] == "" and row[4] == "" and len(row[1]) == 10 for row in rows[1:])


def test_a_store_filter_can_export_a_store_whose_groups_are_big_enough(
    staff_client, organisation, seeded
):
    # given Siam gets a second public-link answer, so its link group reaches k
    ResponseFactory(survey=seeded.survey, location=seeded.r[4].location, language="ja")
    rows = csv_rows(_export(staff_client, organisation, seeded, location=seeded.r[1].location_id))
    # then every Siam answer is shown with its store
    assert len(rows) == 6
    assert {row[4] for row in rows[1:]} == {"Siam"}


@pytest.mark.parametrize(
    "query",
    [
        {"language": "th"},  # R2 only
        {"location": "chiang-mai"},  # R5 only
        {"since": "2026-04-01"},  # R6 only
    ],
)
def test_an_export_of_fewer_than_k_responses_is_refused(staff_client, organisation, seeded, query):
    if query.get("location") == "chiang-mai":
        query = {"location": seeded.r[5].location_id}
    # when the filters leave one response (k = 2)
    page = _export(staff_client, organisation, seeded, **query)
    # then there is no file, but the export page saying why
    assert page.status_code == 400
    assert not page.streaming
    text = page.content.decode()
    assert "Only 1 response matches, fewer than 2" in text
    assert 'id="export-refused"' in text


def test_an_export_matching_nothing_is_the_header_alone(staff_client, organisation, seeded):
    rows = csv_rows(_export(staff_client, organisation, seeded, since="2030-01-01"))
    assert len(rows) == 1 and rows[0][0] == "Response"


def test_a_survey_with_fewer_than_k_responses_is_not_exported(staff_client, organisation, survey):
    # given a survey with one response and k = 5 (the default)
    ResponseFactory(survey=survey)
    # then even unfiltered it is refused
    page = staff_client.get(csv_url(organisation, survey))
    assert page.status_code == 400


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"labels": "fr"}, "Choose one of the languages in the list."),
        ({"labels": "th-TH-x-long"}, "Choose one of the languages in the list."),
        ({"since": "2026-13-01"}, "Enter a date like 2026-03-31."),
        ({"until": "yesterday"}, "Enter a date like 2026-03-31."),
        ({"since": "1066-10-14"}, "Enter a date from 2000-01-01 to 2999-12-31."),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "The end date is before the start date."),
        ({"channel": "fax"}, "Choose a channel from the list."),
        ({"language": "zz"}, "Choose one of the languages in the list."),
        ({"codes": "2"}, "Use 1 for codes, or leave it out for labels."),
        ({"location": "abc"}, "Choose a store from the list."),
        ({"location": "-1"}, "Choose a store from the list."),
        ({"location": "9" * 30}, "Choose a store from the list."),
        ({"location": "9" * 5000}, "This value is too long to be an option."),
        ({"since": "2" * 5000}, "This value is too long to be an option."),
    ],
)
def test_bad_options_are_a_clear_400(staff_client, organisation, seeded, query, message):
    page = _export(staff_client, organisation, seeded, **query)
    assert page.status_code == 400
    assert message in page.content.decode()


def test_another_organisations_store_is_not_an_option(staff_client, organisation, seeded):
    elsewhere = LocationFactory(organisation=OrganisationFactory())
    page = _export(staff_client, organisation, seeded, location=elsewhere.pk)
    assert page.status_code == 400
    assert "Choose a store from the list." in page.content.decode()
