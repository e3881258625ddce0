"""Responses through the API: filters, reading one, the organisation-wide list, and the
organisation's minimum group size k (a filter matching fewer than k is refused; a response
in a small group comes without its store, channel and time of day)."""

import datetime

import pytest
from django.utils import timezone

from surveys.choices import ChannelKind, QuestionType
from tests.factories.communities import LocationFactory, MemberFactory
from tests.factories.surveys import (
    AnswerFactory,
    ChannelFactory,
    ChoiceFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)
from tests.surveys.api.conftest import api_url, problem_pointers

pytestmark = pytest.mark.django_db

MAY_1 = datetime.datetime(2025, 5, 1, 9, 30, tzinfo=datetime.UTC)


def _k(organisation, k: int) -> None:
    organisation.min_group_size = k
    organisation.save(update_fields=["min_group_size"])


def _scored(survey, question, number, **fields):
    response = ResponseFactory(survey=survey, **fields)
    AnswerFactory(response=response, question=question, number=number)
    return response


@pytest.fixture
def scored_survey(organisation):
    """A survey whose score question is its NPS (after a star question)."""
    survey = SurveyFactory(organisation=organisation)
    QuestionFactory(survey=survey, position=1, type=QuestionType.STAR)
    nps = QuestionFactory(survey=survey, position=2, type=QuestionType.NPS)
    return survey, nps


def _ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.json()
    return sorted(r["id"] for r in answer.json()["results"])


def test_each_filter_narrows_a_surveys_responses(api, organisation, scored_survey):
    # given: k = 2, and pairs of responses that differ in one way each
    _k(organisation, 2)
    survey, nps = scored_survey
    store = LocationFactory(organisation=organisation)
    kiosk = ChannelFactory(survey=survey, kind=ChannelKind.KIOSK, device_token="kiosk-1")
    early = [_scored(survey, nps, 9, submitted_at=MAY_1) for _ in range(2)]
    late = [
        _scored(survey, nps, 3, submitted_at=MAY_1 + datetime.timedelta(days=3), language="th")
        for _ in range(2)
    ]
    kiosked = [
        _scored(survey, nps, 7, submitted_at=MAY_1, channel=kiosk, location=store, language="th")
        for _ in range(2)
    ]
    url = api_url("survey_response_list", organisation, survey.pk)
    everyone = sorted(r.pk for r in early + late + kiosked)

    # when / then
    assert _ids(api.get(url)) == everyone
    assert _ids(api.get(url, {"submitted_after": "2025-05-02T00:00:00Z"})) == sorted(
        r.pk for r in late
    )
    assert _ids(api.get(url, {"submitted_before": "2025-05-02T00:00:00+00:00"})) == sorted(
        r.pk for r in early + kiosked
    )
    assert _ids(api.get(url, {"channel": "kiosk"})) == sorted(r.pk for r in kiosked)
    assert _ids(api.get(url, {"channel": "link"})) == sorted(r.pk for r in early + late)
    assert _ids(api.get(url, {"location": store.pk})) == sorted(r.pk for r in kiosked)
    assert _ids(api.get(url, {"language": "th"})) == sorted(r.pk for r in late + kiosked)
    assert _ids(api.get(url, {"min_score": 7})) == sorted(r.pk for r in early + kiosked)
    assert _ids(api.get(url, {"max_score": 6})) == sorted(r.pk for r in late)
    assert _ids(api.get(url, {"min_score": 7, "max_score": 8})) == sorted(r.pk for r in kiosked)


def test_a_filter_matching_fewer_than_k_responses_is_refused(api, organisation, scored_survey):
    # given: k = 5; three Thai answers, seven English
    survey, nps = scored_survey
    for n in range(10):
        _scored(survey, nps, n, language="th" if n < 3 else "en")
    url = api_url("survey_response_list", organisation, survey.pk)

    # when
    few = api.get(url, {"language": "th"})
    enough = api.get(url, {"language": "en"})
    none = api.get(url, {"language": "ja"})

    # then
    assert few.status_code == 422
    body = few.json()
    assert body["code"] == "group_too_small" and body["type"].endswith("/group-too-small")
    assert "5" in body["detail"] and "results" not in body
    assert len(enough.json()["results"]) == 7
    assert none.status_code == 200 and none.json()["results"] == []


def test_a_response_in_a_small_group_comes_without_store_channel_and_time(
    api, organisation, scored_survey
):
    # given: k = 3; a busy store (four kiosk answers, one by email) and a quiet one
    _k(organisation, 3)
    survey, nps = scored_survey
    busy, quiet = (
        LocationFactory(organisation=organisation),
        LocationFactory(organisation=organisation),
    )
    kiosk = ChannelFactory(survey=survey, kind=ChannelKind.KIOSK, device_token="kiosk-busy")
    email = ChannelFactory(survey=survey, kind=ChannelKind.EMAIL)
    crowd = [
        _scored(survey, nps, 8, location=busy, channel=kiosk, submitted_at=MAY_1) for _ in range(4)
    ]
    emailed = _scored(survey, nps, 2, location=busy, channel=email, submitted_at=MAY_1)
    alone = _scored(survey, nps, 1, location=quiet, submitted_at=MAY_1)

    # when
    listed = {
        r["id"]: r
        for r in api.get(api_url("survey_response_list", organisation, survey.pk)).json()["results"]
    }
    read = api.get(api_url("response_detail", organisation, alone.pk)).json()

    # then: the crowd is shown in full
    shown = listed[crowd[0].pk]
    assert (shown["location_id"], shown["channel"], shown["small_group"]) == (
        busy.pk,
        "kiosk",
        False,
    )
    assert shown["submitted_at"].startswith("2025-05-01T09:30")
    # and the lone answers are not placed: no store, no channel, the day only
    for withheld in (listed[emailed.pk], listed[alone.pk], read):
        assert withheld["small_group"] is True
        assert withheld["location_id"] is None and withheld["channel_id"] is None
        assert withheld["channel"] is None
        assert withheld["submitted_at"].startswith("2025-05-01T00:00:00")
        assert withheld["answers"][0]["number"] in (1, 2)


def test_a_small_group_s_time_is_the_start_of_the_organisation_s_day(
    api, organisation, scored_survey
):
    # given: an organisation in Bangkok (UTC+7), k = 3, one answer alone at its store,
    # given at 06:30 on 2 May in Bangkok (23:30 on 1 May in UTC)
    organisation.time_zone = "Asia/Bangkok"
    organisation.save(update_fields=["time_zone"])
    _k(organisation, 3)
    survey, nps = scored_survey
    alone = _scored(
        survey,
        nps,
        1,
        location=LocationFactory(organisation=organisation),
        submitted_at=datetime.datetime(2025, 5, 1, 23, 30, tzinfo=datetime.UTC),
    )

    # when
    read = api.get(api_url("response_detail", organisation, alone.pk)).json()

    # then: only its day is told, as that day begins in Bangkok
    assert read["small_group"] is True
    assert read["submitted_at"] == "2025-05-02T00:00:00+07:00"


def test_filters_on_store_channel_or_time_leave_small_groups_out(api, organisation):
    # given: k = 2; one store with one answer to survey A and two to survey B
    _k(organisation, 2)
    store = LocationFactory(organisation=organisation)
    survey_a, survey_b = (
        SurveyFactory(organisation=organisation),
        SurveyFactory(organisation=organisation),
    )
    lone = ResponseFactory(survey=survey_a, location=store, submitted_at=MAY_1)
    pair = [ResponseFactory(survey=survey_b, location=store, submitted_at=MAY_1) for _ in range(2)]
    url = api_url("response_list", organisation)

    # when
    by_store = api.get(url, {"location": store.pk})
    by_time = api.get(url, {"submitted_after": "2025-05-01T09:00:00Z"})
    unfiltered = api.get(url)

    # then: the filters cannot place the lone answer at the store or the time
    assert _ids(by_store) == sorted(r.pk for r in pair)
    assert _ids(by_time) == sorted(r.pk for r in pair)
    # and the unfiltered list still holds it, withheld
    assert lone.pk in _ids(unfiltered)


def test_an_anonymous_response_never_carries_a_member_id(api, organisation, community):
    # given
    survey = SurveyFactory(organisation=organisation, community=community)
    member = MemberFactory(community=community)
    named = ResponseFactory(survey=survey, member=member)
    anonymous = ResponseFactory(survey=survey, is_anonymous=True)

    # when
    listed = {r["id"]: r for r in api.get(api_url("response_list", organisation)).json()["results"]}

    # then
    assert listed[named.pk]["member_id"] == member.pk
    assert listed[anonymous.pk]["member_id"] is None and listed[anonymous.pk]["is_anonymous"]


def test_the_organisation_wide_list_filters_by_survey(api, organisation, other_organisation):
    # given
    one, two = SurveyFactory(organisation=organisation), SurveyFactory(organisation=organisation)
    mine = [ResponseFactory(survey=one) for _ in range(2)]
    theirs = ResponseFactory(survey=two)
    ResponseFactory(survey=SurveyFactory(organisation=other_organisation))
    url = api_url("response_list", organisation)

    # when / then
    assert _ids(api.get(url)) == sorted([*(r.pk for r in mine), theirs.pk])
    assert _ids(api.get(url, {"survey": one.pk})) == sorted(r.pk for r in mine)
    assert api.get(url, {"survey": one.pk}).json()["results"][0]["survey_id"] == one.pk


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"submitted_after": "last tuesday"}, "submitted_after"),
        ({"submitted_before": "2025-13-01T00:00:00Z"}, "submitted_before"),
        ({"submitted_after": "9999-12-31T23:59:59-12:00"}, "submitted_after"),
        ({"channel": "fax"}, "channel"),
        ({"language": "fr"}, "language"),
        ({"location": "1e3"}, "location"),
        ({"min_score": "high"}, "min_score"),
        ({"max_score": "99999"}, "max_score"),
        ({"max_score": "11"}, "max_score"),
        ({"survey": "abc"}, "survey"),
        ({"sort": "score"}, "sort"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_parameter(api, organisation, params, parameter):
    ResponseFactory(survey=SurveyFactory(organisation=organisation))

    answer = api.get(api_url("response_list", organisation), params)

    assert answer.status_code == 400, answer.json()
    assert parameter in {e["parameter"] for e in answer.json()["errors"]}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        (
            {"submitted_after": "2025-05-02T00:00:00Z", "submitted_before": "2025-05-01T00:00:00Z"},
            "submitted_before",
        ),
        ({"location": "0"}, "location"),
        ({"location": "99999999999999999999999"}, "location"),
        ({"survey": "0"}, "survey"),
        ({"min_score": "5"}, "min_score"),
    ],
)
def test_a_filter_of_the_right_shape_the_data_refuses_is_a_422_naming_it(
    api, organisation, params, parameter
):
    # given a response, and a filter the schema allows but no data of this organisation fits
    ResponseFactory(survey=SurveyFactory(organisation=organisation))

    # when
    answer = api.get(api_url("response_list", organisation), params)

    # then
    assert answer.status_code == 422, answer.json()
    assert answer.json()["code"] == "unprocessable"
    assert parameter in {e["parameter"] for e in answer.json()["errors"]}


def test_filters_name_only_this_organisations_stores_and_surveys(
    api, organisation, other_organisation
):
    foreign_store = LocationFactory(organisation=other_organisation)
    foreign_survey = SurveyFactory(organisation=other_organisation)
    url = api_url("response_list", organisation)

    for params in ({"location": foreign_store.pk}, {"survey": foreign_survey.pk}):
        answer = api.get(url, params)
        assert answer.status_code == 422
        assert problem_pointers(answer) == {f"/{next(iter(params))}"}


def test_a_score_filter_needs_a_survey_with_a_score_question(api, organisation):
    # given: a survey asking only a choice question
    survey = SurveyFactory(organisation=organisation)
    ChoiceFactory(question=QuestionFactory(survey=survey, type=QuestionType.SINGLE_CHOICE))

    # when
    answer = api.get(api_url("survey_response_list", organisation, survey.pk), {"min_score": 5})

    # then
    assert answer.status_code == 422 and problem_pointers(answer) == {"/min_score"}


def test_another_organisations_response_is_not_found(api, organisation, other_organisation):
    foreign = ResponseFactory(survey=SurveyFactory(organisation=other_organisation))

    assert api.get(api_url("response_detail", organisation, foreign.pk)).status_code == 404
    assert api.get(api_url("response_detail", organisation, 10**18)).status_code == 404


@pytest.mark.parametrize("name", ["response_list", "survey_response_list"])
def test_response_lists_page_in_bounded_queries(
    api, organisation, scored_survey, django_assert_max_num_queries, name
):
    # given: answers with choices, at stores and through a channel
    survey, nps = scored_survey
    question = QuestionFactory(survey=survey, position=3, type=QuestionType.MULTI_CHOICE)
    choices = [ChoiceFactory(question=question, position=p) for p in (1, 2)]
    stores = [LocationFactory(organisation=organisation) for _ in range(2)]
    email = ChannelFactory(survey=survey, kind=ChannelKind.EMAIL)
    for n in range(12):
        response = _scored(survey, nps, n % 11, location=stores[n % 2], channel=email)
        AnswerFactory(response=response, question=question, number=None).choices.set(choices)
    url = api_url(name, organisation, *([survey.pk] if name == "survey_response_list" else []))

    # when / then: the same queries for one response a page or a hundred, filtered or not
    for params in ({}, {"min_score": 0, "channel": "email", "survey": survey.pk}):
        if name == "survey_response_list":
            params.pop("survey", None)
        for size in (1, 100):
            with django_assert_max_num_queries(14):
                answer = api.get(url, {**params, "page_size": size})
            assert len(answer.json()["results"]) == min(size, 12), answer.json()


def test_pages_follow_a_cursor_newest_first(api, organisation):
    survey = SurveyFactory(organisation=organisation)
    responses = [ResponseFactory(survey=survey, submitted_at=timezone.now()) for _ in range(5)]
    url = api_url("survey_response_list", organisation, survey.pk)

    first = api.get(url, {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert [r["id"] for r in first["results"] + second["results"]] == [
        r.pk for r in reversed(responses)
    ][:4]
