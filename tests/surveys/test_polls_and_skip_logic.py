"""Quick polls take one tap and show results; show-if rules hold on the server too."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from rewards.selectors import member_balance
from surveys.choices import QuestionType, SurveyKind
from surveys.models import Answer, Response
from surveys.services import question_add, survey_create, survey_publish
from tests.factories.communities import CommunityFactory

pytestmark = pytest.mark.django_db


def url(survey):
    return reverse("surveys:survey_respond", args=[survey.public_id])


@pytest.fixture
def poll(organisation, community):
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
    poll.points = 2
    poll.save()
    return survey_publish(survey=poll)


def poll_key(page) -> str:
    return page.context["poll"]["form"]["idempotency_key"].value()


def choice(poll, label):
    return poll.questions.get().choices.get(label__en=label)


# --- polls ------------------------------------------------------------------------------


def test_a_vote_takes_one_tap_and_shows_the_results(client, poll):
    # given
    page = client.get(url(poll))
    assert b"Yes please" in page.content and b"poll-results" not in page.content
    key = page.context["poll"]["form"]["idempotency_key"].value()
    question = poll.questions.get()
    # when
    voted = client.post(
        url(poll), {f"q_{question.pk}": choice(poll, "Yes please").pk, "idempotency_key": key}
    )
    # then
    assert voted.status_code == 302
    results = client.get(voted["Location"])
    bars = results.context["poll"]["bars"]
    # one vote is fewer than the organisation's k: no split yet (test_poll_small_groups.py)
    assert [(b.label, b.votes, b.percent) for b in bars] == [
        ("Yes please", None, None),
        ("No thanks", None, None),
    ]
    assert b"Results appear when more people have voted." in results.content


def test_a_browser_votes_once_whatever_key_the_form_carries(client, poll):
    question = poll.questions.get()
    client.get(url(poll))
    for label in ("Yes please", "No thanks", "No thanks"):
        client.post(
            url(poll),
            {f"q_{question.pk}": choice(poll, label).pk, "idempotency_key": "f" * 32},
        )
    assert Response.objects.count() == 1
    assert Answer.objects.get().choices.get().label == {"en": "Yes please"}


def test_another_browser_gets_its_own_vote(client, poll):
    from django.test import Client

    question = poll.questions.get()
    for browser in (client, Client()):
        key = poll_key(browser.get(url(poll)))
        browser.post(
            url(poll), {f"q_{question.pk}": choice(poll, "No thanks").pk, "idempotency_key": key}
        )
    assert Response.objects.count() == 2


def test_a_member_votes_once_and_earns_the_points_once(member_client, member, poll):
    question = poll.questions.get()
    for _ in range(3):
        page = member_client.post(
            url(poll),
            {f"q_{question.pk}": choice(poll, "Yes please").pk, "idempotency_key": "a" * 32},
        )
        assert page.status_code == 302
        member_client.post(
            url(poll), {f"q_{question.pk}": choice(poll, "No thanks").pk, "idempotency_key": "b"}
        )
    assert Response.objects.count() == 1
    assert member_balance(member=member) == 2


@pytest.mark.parametrize("value", ["", "999999", "not-a-number", "-1", "x" * 6000])
def test_a_bad_vote_is_refused_with_a_message(client, poll, other_organisation, value):
    question = poll.questions.get()
    key = poll_key(client.get(url(poll)))
    page = client.post(url(poll), {f"q_{question.pk}": value, "idempotency_key": key})
    assert page.status_code == 400
    assert page.context["poll"]["field"].errors
    assert not Response.objects.exists()


def test_community_home_lists_open_surveys_and_takes_poll_votes_inline(
    client, community, poll, survey, organisation
):
    # given
    survey.community = community
    survey.save()
    CommunityFactory(organisation=organisation)  # another community's surveys stay away
    home = reverse("surveys:community_home", args=[organisation.slug, community.slug])
    page = client.get(home)
    assert page.status_code == 200
    key = page.context["polls"][0]["form"]["idempotency_key"].value()
    html = page.content.decode()
    assert survey.title_text in html and "Should we stock oat milk?" in html
    # when: a vote from the home page
    question = poll.questions.get()
    voted = client.post(
        url(poll),
        {f"q_{question.pk}": choice(poll, "No thanks").pk, "next": home, "idempotency_key": key},
    )
    # then: back on the home page, with the results in place of the buttons
    assert voted["Location"] == home
    assert "poll-results" in client.get(home).content.decode()
    # and an open redirect is not followed
    voted = client.post(
        url(poll),
        {
            f"q_{question.pk}": choice(poll, "No thanks").pk,
            "next": "https://evil.example/",
            "idempotency_key": key,
        },
    )
    assert voted["Location"].startswith(url(poll))
    assert Response.objects.count() == 1


def test_unknown_community_is_404(client, organisation):
    assert (
        client.get(reverse("surveys:community_home", args=[organisation.slug, "nope"])).status_code
        == 404
    )


# --- skip logic and the new question types on the respondent page ------------------------


@pytest.fixture
def branching(organisation):
    survey = survey_create(organisation=organisation, title={"en": "Visit"}, languages=["en"])
    nps = question_add(survey=survey, type="nps", text={"en": "Recommend?"})
    why = question_add(
        survey=survey,
        type="text",
        text={"en": "What went wrong?"},
        required=True,
        settings={"show_if": {"question": nps.pk, "op": "lte", "value": 6}},
    )
    survey_publish(survey=survey)
    return survey, nps, why


def test_a_question_shown_by_its_rule_is_required(client, branching):
    survey, nps, why = branching
    page = client.post(url(survey), {f"q_{nps.pk}": 3, "idempotency_key": "k" * 32})
    assert page.status_code == 400
    assert page.context["form"].errors[f"q_{why.pk}"] == ["Please answer this question."]
    assert not Response.objects.exists()


def test_a_skipped_question_is_not_required_and_its_stale_answer_dropped(client, branching):
    survey, nps, why = branching
    page = client.post(
        url(survey),
        {
            f"q_{nps.pk}": 9,
            f"q_{why.pk}": "left over from an earlier 3",
            "idempotency_key": "k" * 32,
        },
    )
    assert page.status_code == 302
    response = Response.objects.get()
    assert list(response.answers.values_list("question_id", flat=True)) == [nps.pk]


@pytest.mark.parametrize(
    ("qtype", "value", "ok"),
    [
        ("csat", 1, True),
        ("csat", 0, False),
        ("csat", 6, False),
        ("yes_no", 0, True),
        ("yes_no", 1, True),
        ("yes_no", 2, False),
        ("yes_no", "yes", False),
        ("short_text", "x" * 500, True),
        ("short_text", "x" * 501, False),
    ],
)
def test_new_question_types_take_only_their_values(client, organisation, qtype, value, ok):
    survey = survey_create(organisation=organisation, title={"en": "T"}, languages=["en"])
    question = question_add(survey=survey, type=qtype, text={"en": "Q?"})
    survey_publish(survey=survey)
    page = client.post(url(survey), {f"q_{question.pk}": value, "idempotency_key": "k" * 32})
    assert (page.status_code == 302) is ok
    assert Response.objects.exists() is ok


def test_rating_scale_takes_only_its_own_bounds(client, organisation):
    survey = survey_create(organisation=organisation, title={"en": "T"}, languages=["en"])
    question = question_add(
        survey=survey, type="rating", text={"en": "Effort?"}, settings={"min": 1, "max": 7}
    )
    survey_publish(survey=survey)
    for value, status in ((8, 400), (0, 400), (7, 302)):
        page = client.post(
            url(survey), {f"q_{question.pk}": value, "idempotency_key": f"{value}" * 32}
        )
        assert page.status_code == status


def test_multi_choice_other_box_counts_as_an_answer(client, organisation):
    survey = survey_create(organisation=organisation, title={"en": "T"}, languages=["en"])
    question = question_add(
        survey=survey,
        type="multi_choice",
        text={"en": "What mattered?"},
        settings={"other": True},
        choices=[{"en": "Price"}, {"en": "Speed"}],
    )
    survey_publish(survey=survey)
    # when: nothing ticked, but "other" written
    page = client.post(
        url(survey),
        {f"q_{question.pk}_other": "The music", "idempotency_key": "k" * 32},
    )
    # then
    assert page.status_code == 302
    answer = Answer.objects.get()
    assert answer.text == "The music" and not answer.choices.exists()


def test_privacy_policy_is_linked_from_the_survey_page(client, survey, community):
    community.privacy_policy_text = "We keep your answers for two years."
    community.save()
    survey.community = community
    survey.save()
    html = client.get(url(survey)).content.decode()
    privacy = reverse("surveys:community_privacy", args=[survey.organisation.slug, community.slug])
    assert privacy in html
    assert "two years" in client.get(privacy).content.decode()


def test_a_single_choice_answer_may_be_written_in_its_other_box_alone():
    from surveys.services.answers import answers_validate
    from tests.factories.surveys import ChoiceFactory, QuestionFactory

    question = QuestionFactory(type=QuestionType.SINGLE_CHOICE, settings={"other": True})
    choice = ChoiceFactory(question=question)
    name = f"q_{question.pk}"
    # the written answer stands instead of a choice, or beside one
    assert answers_validate(questions=[question], raw={f"{name}_other": "A blog"}) == {
        question.pk: {"choice_ids": [], "text": "A blog"}
    }
    both = answers_validate(questions=[question], raw={name: choice.pk, f"{name}_other": "x"})
    assert both[question.pk]["choice_ids"] == [choice.pk]
    # but two choices are still refused
    other_choice = ChoiceFactory(question=question)
    with pytest.raises(ValidationError):
        answers_validate(questions=[question], raw={name: [choice.pk, other_choice.pk]})
