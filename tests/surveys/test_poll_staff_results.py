"""Staff see how a poll's votes split, option by option, once enough people voted that
nobody's vote can be singled out (issue 11)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from communities.choices import Role
from surveys.choices import SurveyKind
from surveys.models import Choice
from surveys.services import question_add, response_submit, survey_create, survey_publish
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.surveys import SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def poll(organisation, community):
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk"},
        languages=["en", "he"],
        kind=SurveyKind.POLL,
    )
    question_add(
        survey=poll,
        type="single_choice",
        text={"en": "Should we stock oat milk?", "he": "להחזיק חלב שיבולת שועל?"},
        choices=[
            {"en": "Yes please", "he": "כן, בבקשה"},
            {"en": "No thanks", "he": "לא, תודה"},
            {"en": "Don't mind", "he": "לא משנה לי"},
        ],
    )
    return survey_publish(survey=poll)


def vote(poll, label: str, n: int = 1) -> None:
    question = poll.questions.get()
    choice = Choice.objects.get(question=question, label__en=label)
    for _ in range(n):
        response_submit(
            survey=poll,
            raw_answers={f"q_{question.pk}": choice.pk},
            idempotency_key=uuid.uuid4().hex,
        )


def results(poll) -> str:
    return reverse("staff:survey_results", args=[poll.organisation.slug, poll.pk])


def rows(html: str) -> list[tuple[str, str, str]]:
    """The (answer, votes, share) rows of the poll's table, as text."""
    table = re.search(r'<table class="[^"]*poll-distribution">.*?</table>', html, re.S)
    assert table, "no vote table on the page"
    row = r'<tr><th scope="row"[^>]*>(.*?)</th><td[^>]*>(.*?)</td><td>(.*?)</td></tr>'
    return [
        tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in cells)
        for cells in re.findall(row, table[0], re.S)
    ]


def test_staff_see_each_options_votes_and_share(staff_client, poll):
    # given: eleven votes (the organisation shows groups from five up)
    vote(poll, "Yes please", 6)
    vote(poll, "No thanks", 5)
    # when
    page = staff_client.get(results(poll))
    # then: every option, in order, with its votes and share, as a table of words
    assert page.status_code == 200
    html = page.content.decode()
    assert rows(html) == [
        ("Yes please", "6", "55%"),
        ("No thanks", "5", "45%"),
        ("Don&#x27;t mind", "0", "0%"),
    ]
    # and the bars only repeat the words, out of a screen reader's way
    assert 'class="progress" aria-hidden="true"' in html
    assert "11 votes so far." in html


def test_below_the_minimum_group_size_only_the_count_is_shown(staff_client, organisation, poll):
    # given: the organisation reports groups of eight or more; seven have voted
    organisation.min_group_size = 8
    organisation.save()
    vote(poll, "Yes please", 6)
    vote(poll, "No thanks", 1)
    # when
    html = staff_client.get(results(poll)).content.decode()
    # then
    assert "poll-distribution" not in html
    assert "7 votes so far." in html
    assert "The split is shown once 8 people have voted" in html


def test_a_poll_with_no_votes_shows_no_split(staff_client, poll):
    html = staff_client.get(results(poll)).content.decode()
    assert "poll-distribution" not in html and "0 votes so far." in html


def test_option_names_are_in_the_staff_members_language(staff_client, staff_user, poll):
    vote(poll, "Yes please", 5)
    staff_user.locale = "he"
    staff_user.save()
    html = staff_client.get(results(poll)).content.decode()
    assert [row[0] for row in rows(html)] == ["כן, בבקשה", "לא, תודה", "לא משנה לי"]


def test_a_survey_that_is_not_a_poll_has_no_vote_table(staff_client, organisation, survey):
    html = staff_client.get(results(survey)).content.decode()
    assert "How the votes split" not in html


def test_another_organisations_poll_results_are_not_found(
    staff_client, organisation, other_organisation
):
    foreign = SurveyFactory(organisation=other_organisation, kind=SurveyKind.POLL)
    page = staff_client.get(reverse("staff:survey_results", args=[organisation.slug, foreign.pk]))
    assert page.status_code == 404


def test_an_analyst_reads_the_split_too(client, organisation, poll):
    analyst = UserFactory(email="analyst@example.com")
    StaffRoleFactory(user=analyst, organisation=organisation, role=Role.ANALYST)
    client.force_login(analyst)
    vote(poll, "Yes please", 5)
    assert rows(client.get(results(poll)).content.decode())[0] == ("Yes please", "5", "100%")
