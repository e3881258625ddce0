"""The responses behind a figure: the responses a filter selects, listed one by one with
their scores and a link to their case, under the same minimum-group-size rules as the
figures. Expectations come from TEXT_ROWS alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from communities.choices import Role
from surveys.choices import ChannelKind
from tests.factories.communities import (
    LocationFactory,
    SegmentFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.insights_text import DAY, TEXT_ROWS, K, text_seed
from tests.factories.surveys import SurveyFactory

pytestmark = pytest.mark.django_db

RANGE = {"start": DAY.isoformat(), "end": (DAY + dt.timedelta(days=13)).isoformat()}


@pytest.fixture
def seeded(organisation, community):
    return text_seed(organisation, community)


def drill(client, organisation, **params):
    page = client.get(
        reverse("staff:insights_responses", args=[organisation.slug]), {**RANGE, **params}
    )
    assert page.status_code == 200
    return page, page.content.decode()


def listed(page, seeded) -> list[int]:
    """The seed rows listed, by their index in TEXT_ROWS."""
    index = {response.pk: i for i, response in enumerate(seeded["responses"])}
    return sorted(index[row.response.pk] for row in page.context["rows"] or [])


def expected(rule) -> list[int]:
    return [i for i, row in enumerate(TEXT_ROWS) if rule(row)]


def test_the_detractors_behind_the_nps_are_exactly_the_responses_scoring_0_to_6(
    staff_client, organisation, seeded
):
    # when
    page, html = drill(staff_client, organisation, band="detractor")

    # then
    assert listed(page, seeded) == expected(lambda r: r.nps <= 6)
    assert page.context["drill"].count == len(expected(lambda r: r.nps <= 6))
    assert 'id="responses-table"' in html


@pytest.mark.parametrize(
    ("params", "rule"),
    [
        ({"band": "promoter"}, lambda r: r.nps >= 9),
        ({"stars": "4"}, lambda r: r.stars == 4),
        ({"channel": ChannelKind.KIOSK}, lambda r: r.channel == ChannelKind.KIOSK),
        ({"language": "en"}, lambda r: r.language == "en"),
        ({"band": "detractor", "language": "en"}, lambda r: r.nps <= 6 and r.language == "en"),
    ],
)
def test_each_filter_lists_the_responses_it_selects(
    staff_client, organisation, seeded, params, rule
):
    # when
    page, _html = drill(staff_client, organisation, **params)

    # then
    wanted = expected(rule)
    assert len(wanted) >= K
    assert listed(page, seeded) == wanted


def test_a_store_filter_lists_that_stores_responses(staff_client, organisation, seeded):
    # when
    page, _html = drill(staff_client, organisation, location=seeded["stores"]["Siam"].pk)

    # then
    assert listed(page, seeded) == expected(lambda r: r.store == "Siam")


def test_a_segment_lists_its_members_responses_and_never_an_anonymous_one(
    staff_client, organisation, community, seeded
):
    # given
    segment = SegmentFactory(community=community, name="Active")

    # when
    page, _html = drill(staff_client, organisation, segment=segment.pk)

    # then
    assert listed(page, seeded) == expected(lambda r: not r.anonymous)


def test_a_member_status_lists_those_members_responses(staff_client, organisation, seeded):
    # when
    page, _html = drill(staff_client, organisation, status="active")

    # then
    assert listed(page, seeded) == expected(lambda r: not r.anonymous)


@pytest.mark.parametrize(
    "params",
    [
        {"band": "passive"},  # four responses
        {"stars": "5"},
        {"language": "he"},
        {"band": "promoter", "channel": ChannelKind.EMAIL},
    ],
)
def test_filters_that_select_fewer_than_k_responses_list_none(
    staff_client, organisation, seeded, params
):
    # when
    page, html = drill(staff_client, organisation, **params)

    # then
    assert page.context["drill"].withheld
    assert page.context["rows"] is None
    assert 'id="responses-withheld"' in html
    assert 'id="responses-table"' not in html


def test_a_response_from_a_store_and_channel_under_k_is_listed_without_them(
    staff_client, organisation, seeded
):
    # when
    page, html = drill(staff_client, organisation)

    # then: Ari kiosk (2) and, beside it, the public link without a store (4)
    hidden = {
        i for i, row in enumerate(TEXT_ROWS) if (row.store, row.channel) in {("Ari", "kiosk")}
    } | {i for i, row in enumerate(TEXT_ROWS) if row.store is None}
    index = {response.pk: i for i, response in enumerate(seeded["responses"])}
    for row in page.context["rows"]:
        assert row.place_shown == (index[row.response.pk] not in hidden)
    assert ">Ari<" not in html
    assert html.count("data-place-withheld") == len(hidden)


@pytest.mark.parametrize(("role", "links"), [(Role.ADMIN, True), (Role.ANALYST, False)])
def test_case_links_are_for_roles_that_work_cases(client, organisation, seeded, role, links):
    # given
    user = UserFactory()
    StaffRoleFactory(user=user, organisation=organisation, role=role)
    client.force_login(user)

    # when
    page, html = drill(client, organisation, band="detractor")

    # then
    cases = [r.case for r in seeded["responses"] if hasattr(r, "case") and r.case]
    for case in cases:
        assert (reverse("staff:case_detail", args=[organisation.slug, case.pk]) in html) == links


@pytest.mark.parametrize(
    "params",
    [
        {"start": "31/02/2025"},
        {"end": "2025-02-30"},
        {"start": "2025-03-10", "end": "2025-03-01"},
        {"survey": "0"},
        {"location": "1e9"},
        {"segment": "banana"},
        {"channel": "pigeon"},
        {"band": "detractors"},
        {"stars": "6"},
        {"stars": "-1"},
        {"csat": "meh"},
        {"language": "x" * 300},
        {"status": "erased"},
        {"tier": "999999"},
    ],
)
def test_bad_filters_are_refused_and_nothing_is_listed(staff_client, organisation, seeded, params):
    # when
    page, html = drill(staff_client, organisation, **params)

    # then
    assert page.context["form"].errors
    assert page.context["drill"] is None
    assert 'id="filters-invalid"' in html


def test_another_organisations_ids_are_unknown_choices(
    staff_client, organisation, other_organisation, seeded
):
    # given
    theirs = [
        {"survey": SurveyFactory(organisation=other_organisation).pk},
        {"location": LocationFactory(organisation=other_organisation).pk},
        {"segment": SegmentFactory(community__organisation=other_organisation).pk},
    ]

    for params in theirs:
        # when
        page, _html = drill(staff_client, organisation, **params)

        # then
        assert page.context["drill"] is None, params
        assert page.context["form"].errors


def test_the_list_runs_a_bounded_number_of_queries(
    staff_client, organisation, seeded, django_assert_max_num_queries
):
    path = reverse("staff:insights_responses", args=[organisation.slug])
    with django_assert_max_num_queries(14):
        assert staff_client.get(path, RANGE).status_code == 200
