"""The text answers page: every open-text answer the filters select, keywords highlighted
without letting markup through, top terms per period and segment, and nothing that would
single out a group of fewer than k responses. Expectations come from TEXT_ROWS alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from communities.choices import Role
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


def page_of(client, organisation, **params):
    page = client.get(reverse("staff:insights_text", args=[organisation.slug]), {**RANGE, **params})
    assert page.status_code == 200
    return page, page.content.decode()


def listed_texts(page) -> list[str]:
    return [answer.text for answer in page.context["page"]] if page.context["page"] else []


def test_every_text_answer_in_the_range_is_listed_newest_first(staff_client, organisation, seeded):
    # when
    page, _html = page_of(staff_client, organisation)

    # then
    found = page.context["found"]
    assert found.count == len(TEXT_ROWS)
    order = sorted(range(len(TEXT_ROWS)), key=lambda i: (i % 14, i), reverse=True)
    assert listed_texts(page) == [TEXT_ROWS[i].text for i in order]


def test_the_score_band_of_the_same_response_selects_its_answers(
    staff_client, organisation, seeded
):
    for band, numbers in (
        ("detractor", range(0, 7)),
        ("passive", range(7, 9)),  # four: fewer than k
        ("promoter", range(9, 11)),
    ):
        # when
        page, _html = page_of(staff_client, organisation, band=band)

        # then
        expected = sorted(row.text for row in TEXT_ROWS if row.nps in numbers)
        if len(expected) < K:
            assert page.context["found"].withheld, band
            assert listed_texts(page) == []
        else:
            assert sorted(listed_texts(page)) == expected, band


def test_sentiment_and_language_filters_select_their_answers(staff_client, organisation, seeded):
    # when
    negative, _ = page_of(staff_client, organisation, sentiment="negative")
    english, _ = page_of(staff_client, organisation, language="en")

    # then
    assert sorted(listed_texts(negative)) == sorted(r.text for r in TEXT_ROWS if r.sentiment < -0.3)
    assert sorted(listed_texts(english)) == sorted(r.text for r in TEXT_ROWS if r.language == "en")


def test_a_keyword_is_highlighted_and_markup_in_an_answer_stays_text(
    staff_client, organisation, seeded
):
    # when
    page, html = page_of(staff_client, organisation, keyword="COFFEE")

    # then: every answer holding the word, case-insensitively, with the word marked
    expected = sorted(r.text for r in TEXT_ROWS if "coffee" in r.text.lower())
    assert sorted(listed_texts(page)) == expected
    assert "The <mark>coffee</mark> was cold" in html
    assert "<script>alert" not in html
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; <mark>coffee</mark> &amp; cake" in html
    )


def test_a_keyword_holding_markup_is_escaped_before_it_is_marked(
    staff_client, organisation, seeded
):
    # when
    _page, html = page_of(staff_client, organisation, keyword="<script>")

    # then: fewer than k answers hold it, so none is shown, and the keyword is inert
    assert "<script>" not in html.split("</form>", 1)[1]


def test_a_filter_that_narrows_to_fewer_than_k_responses_shows_no_answers(
    staff_client, organisation, seeded
):
    # given: Ari has two responses, k is five
    ari = seeded["stores"]["Ari"]

    # when
    page, html = page_of(staff_client, organisation, location=ari.pk)

    # then
    assert page.context["found"].withheld
    assert page.context["page"] is None
    assert 'id="text-withheld"' in html
    assert "הקפה" not in html


def test_an_answer_from_a_store_under_k_is_shown_without_its_store(
    staff_client, organisation, seeded
):
    # when
    page, html = page_of(staff_client, organisation)

    # then: Ari (2) is hidden, and the store-less group (4) beside it so 2 + 4 ≥ k; Siam
    # and Silom keep their names
    found = page.context["found"]
    assert found.hidden_locations == {seeded["stores"]["Ari"].pk, None}
    assert ">Ari<" not in html
    assert html.count("data-location>Siam<") == 8
    assert html.count("data-location>Silom<") == 6


def test_answers_never_show_who_gave_them(staff_client, organisation, seeded):
    # when
    _page, html = page_of(staff_client, organisation)

    # then: neither the anonymous answers nor the others name their member
    for response in seeded["responses"]:
        if response.member is not None:
            assert response.member.email not in html
            assert response.member.name not in html


@pytest.mark.parametrize(("role", "sees_cases"), [(Role.AGENT, None), (Role.ANALYST, False)])
def test_a_link_to_the_case_is_shown_only_to_roles_that_work_cases(
    client, organisation, seeded, role, sees_cases
):
    # given
    user = UserFactory()
    StaffRoleFactory(user=user, organisation=organisation, role=role)
    client.force_login(user)
    path = reverse("staff:insights_text", args=[organisation.slug])

    # when
    page = client.get(path, RANGE)

    # then: agents do not read results at all; analysts read them without case links
    if sees_cases is None:
        assert page.status_code == 403
        return
    assert page.status_code == 200
    assert "/cases/" not in page.content.decode()


def test_an_admin_follows_an_answer_to_its_case(staff_client, organisation, seeded):
    # when
    _page, html = page_of(staff_client, organisation, keyword="Rude")

    # then: one answer, under k, so withheld; unfiltered the case links are there
    assert "Rude staff" not in html
    _page, html = page_of(staff_client, organisation)
    cases = [r.case for r in seeded["responses"] if hasattr(r, "case")]
    assert cases
    for case in cases:
        assert reverse("staff:case_detail", args=[organisation.slug, case.pk]) in html


def test_top_terms_are_counted_per_period_in_thai_japanese_and_english(
    staff_client, organisation, seeded
):
    # when: the two weeks, one period each
    page, html = page_of(staff_client, organisation, interval="week")

    # then
    periods = page.context["found"].periods
    terms = {term: n for group in periods for term, n in group.terms}
    assert not any(group.hidden for group in periods)
    assert "coffee" in terms
    assert "กาแฟ" in terms
    assert "コーヒー" in terms
    assert "the" not in terms and "แต่" not in terms
    assert "data-term>กาแฟ" in html


def test_top_terms_per_segment_list_only_terms_k_answers_use(
    staff_client, organisation, community, seeded
):
    # given: a segment of every active member (the non-anonymous responses)
    SegmentFactory(community=community, name="Active")

    # when
    page, _html = page_of(staff_client, organisation)

    # then
    (segment,) = page.context["found"].segments
    named = [r for r in TEXT_ROWS if not r.anonymous]
    assert segment.responses == len(named)
    coffee = sum("coffee" in r.text.lower() for r in named)
    assert ("coffee", coffee) in segment.terms
    assert all(n >= K for _term, n in segment.terms)


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2025-13-45"},
        {"end": "yesterday"},
        {"start": "2025-03-10", "end": "2025-03-01"},
        {"start": "2019-01-01", "end": "2025-03-01"},
        {"survey": "999999"},
        {"survey": "abc"},
        {"location": "-1"},
        {"band": "angry"},
        {"sentiment": "furious"},
        {"language": "xx"},
        {"keyword": "k" * 101},
    ],
)
def test_bad_filters_are_refused_on_the_page_and_list_nothing(
    staff_client, organisation, seeded, params
):
    # when
    page, html = page_of(staff_client, organisation, **params)

    # then
    assert page.context["form"].errors
    assert page.context["found"] is None
    assert 'id="filters-invalid"' in html
    assert "coffee" not in html.lower().split("</form>", 1)[1]


def test_another_organisations_survey_or_store_is_an_unknown_choice(
    staff_client, organisation, other_organisation, seeded
):
    # given
    theirs = SurveyFactory(organisation=other_organisation)
    their_store = LocationFactory(organisation=other_organisation)

    for params in ({"survey": theirs.pk}, {"location": their_store.pk}):
        # when
        page, _html = page_of(staff_client, organisation, **params)

        # then
        assert page.context["found"] is None
        assert page.context["form"].errors


def test_a_page_number_out_of_range_shows_a_page_not_an_error(staff_client, organisation, seeded):
    # when
    page, _html = page_of(staff_client, organisation, page="999999")
    garbage, _html = page_of(staff_client, organisation, page="x" * 500)

    # then
    assert page.context["page"].number == 1
    assert garbage.context["page"].number == 1


def test_the_page_runs_a_bounded_number_of_queries(
    staff_client, organisation, community, seeded, django_assert_max_num_queries
):
    # given
    SegmentFactory(community=community, name="Active")
    path = reverse("staff:insights_text", args=[organisation.slug])

    # when / then
    with django_assert_max_num_queries(16):
        assert staff_client.get(path, RANGE).status_code == 200
