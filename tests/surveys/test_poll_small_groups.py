"""What a voter sees after voting in a quick poll: the split between the options only once
at least k people (the organisation's minimum group size) have voted; before that, how
many have voted and a note that results appear when more have — with two votes, the
one that is not yours would be one person's choice."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from surveys.choices import SurveyKind
from surveys.selectors import poll_results
from surveys.services import question_add, survey_create, survey_publish

pytestmark = pytest.mark.django_db

K = 3


def url(survey) -> str:
    return reverse("surveys:survey_respond", args=[survey.public_id])


@pytest.fixture
def poll(organisation, community):
    organisation.min_group_size = K
    organisation.save(update_fields=["min_group_size"])
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk?"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question_add(
        survey=poll,
        type="single_choice",
        text={"en": "Should we stock oat milk?"},
        choices=[{"en": "Yes please"}, {"en": "No thanks"}],
    )
    return survey_publish(survey=poll)


def vote(poll, label: str):
    """One visitor's vote, from their own browser; the page they see afterwards."""
    browser = Client()
    page = browser.get(url(poll))
    key = page.context["poll"]["form"]["idempotency_key"].value()
    question = poll.questions.get()
    chosen = question.choices.get(label__en=label)
    voted = browser.post(url(poll), {f"q_{question.pk}": chosen.pk, "idempotency_key": key})
    assert voted.status_code == 302
    return browser.get(voted["Location"])


def test_a_voter_among_fewer_than_k_sees_no_split_only_that_results_will_come(poll):
    # given
    vote(poll, "Yes please")

    # when: the second of three needed votes
    page = vote(poll, "No thanks")

    # then
    html = page.content.decode()
    card = page.context["poll"]
    assert card["total"] == 2
    assert [(bar.label, bar.votes, bar.percent) for bar in card["bars"]] == [
        ("Yes please", None, None),
        ("No thanks", None, None),
    ]
    assert "Results appear when more people have voted." in html
    assert 'role="progressbar"' not in html
    assert "%" not in html.split('class="poll-results"', 1)[1].split("</div>", 1)[0]
    assert "2 votes so far." in html


def test_once_k_have_voted_each_voter_sees_the_split(poll):
    # given
    vote(poll, "Yes please")
    vote(poll, "No thanks")

    # when: the k-th vote
    page = vote(poll, "Yes please")

    # then
    html = page.content.decode()
    bars = page.context["poll"]["bars"]
    assert [(bar.label, bar.votes, bar.percent) for bar in bars] == [
        ("Yes please", 2, 67),
        ("No thanks", 1, 33),
    ]
    assert "Results appear when more people have voted." not in html
    assert 'aria-valuenow="67"' in html


def test_poll_results_withholds_the_split_exactly_below_k(poll, organisation):
    # given: k − 1 votes
    vote(poll, "Yes please")
    vote(poll, "Yes please")

    # then
    bars, total = poll_results(survey=poll)
    assert total == K - 1
    assert all(bar.votes is None and bar.percent is None for bar in bars)

    # when: the organisation lowers k to the votes there are
    organisation.min_group_size = K - 1
    organisation.save(update_fields=["min_group_size"])
    poll.refresh_from_db()
    bars, total = poll_results(survey=poll)

    # then
    assert [(bar.votes, bar.percent) for bar in bars] == [(2, 100), (0, 0)]
