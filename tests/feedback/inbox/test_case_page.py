"""The case page: the response panel (answers, sentiment, channel, store), what may be said
about the respondent, @mentions in notes (highlighted, emailed in the colleague's
language through the outbox), and the time left in words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.outbox.models import OutboundEmail
from feedback.services.cases import note_mentions
from feedback.timeline import case_due_text
from tests.factories.communities import LocationFactory, MemberFactory, UserFactory
from tests.factories.surveys import AnswerFactory, ChannelFactory, ResponseFactory
from tests.feedback.inbox.conftest import case_url

pytestmark = pytest.mark.django_db


def test_the_response_panel_shows_answers_sentiment_channel_and_store(
    agent_client, organisation, inbox_survey, make_case
):
    # given
    siam = LocationFactory(organisation=organisation, name="Siam Paragon")
    channel = ChannelFactory(survey=inbox_survey, kind="kiosk", device_token="k-1")
    case = make_case(response__location=siam, response__channel=channel)
    AnswerFactory(response=case.response, number=2, question__text={"en": "How likely?"})
    AnswerFactory(
        response=case.response,
        question__type="text",
        number=None,
        text="The coffee was cold",
        sentiment=-0.6,
        question__text={"en": "Tell us more"},
    )

    # when
    html = agent_client.get(case_url(organisation, case)).content.decode()

    # then
    for shown in (
        "How likely?",
        "Tell us more",
        "The coffee was cold",
        "-0.60",
        "Kiosk",
        "Siam Paragon",
    ):
        assert shown in html


def test_an_anonymous_response_says_nothing_about_the_person(agent_client, organisation, make_case):
    # given
    case = make_case(response__is_anonymous=True)

    # when
    page = agent_client.get(case_url(organisation, case))

    # then
    assert page.context["respondent"] is None
    assert "An anonymous response: nothing about the person is shown." in page.content.decode()


def test_a_members_address_shows_only_while_they_agree_to_be_contacted(
    agent_client, organisation, community, make_case
):
    # given
    member = MemberFactory(community=community, name="Somchai", email="somchai@example.com")
    agreed = make_case(response__member=member, response__consent_to_contact=True)
    declined = make_case(
        response__member=member,
        response__consent_to_contact=False,
        response__idempotency_key="second",
    )

    # when
    shown = agent_client.get(case_url(organisation, agreed)).content.decode()
    hidden = agent_client.get(case_url(organisation, declined)).content.decode()

    # then: named in both (an agent has no member page link), the address only with consent
    assert "Somchai" in shown and "somchai@example.com" in shown
    assert "Somchai" in hidden and "somchai@example.com" not in hidden
    assert "Member page" not in shown


def test_mentions_match_names_and_addresses_longest_first_and_not_inside_words():
    # given
    kim = UserFactory.build(pk=1, name="Kim", email="kim@example.com")
    kim_lee = UserFactory.build(pk=2, name="Kim Lee", email="lee@example.com")
    ann = UserFactory.build(pk=3, name="Ann", email="ann@example.com")
    staff = [kim, kim_lee, ann]

    # then
    assert note_mentions(body="ask @kim lee, please", staff=staff) == [(kim_lee, "@kim lee")]
    assert note_mentions(body="@Kimberly and @annex", staff=staff) == []
    assert note_mentions(body="cc @ann@example.com.", staff=staff) == [(ann, "@ann@example.com")]
    assert note_mentions(body="mail ann@example.com", staff=staff) == []


def test_a_name_two_colleagues_share_mentions_neither():
    # given
    first = UserFactory.build(pk=1, name="Kim", email="a@example.com")
    second = UserFactory.build(pk=2, name="Kim", email="b@example.com")

    # then
    assert note_mentions(body="@Kim?", staff=[first, second]) == []
    assert note_mentions(body="@b@example.com", staff=[first, second]) == [
        (second, "@b@example.com")
    ]


def test_a_mention_is_highlighted_and_the_colleague_emailed_in_their_language(
    agent_client, organisation, agent, colleague, make_case, django_capture_on_commit_callbacks
):
    # given
    case = make_case()

    # when
    with django_capture_on_commit_callbacks(execute=False):
        agent_client.post(
            case_url(organisation, case, "note"),
            {"body": "@Kim Lee can you call <them>? cc @agent@example.com", "submission": "s1"},
        )
    html = agent_client.get(case_url(organisation, case)).content.decode()

    # then: one email, to the colleague (not the author), in Thai; the note is escaped
    (email,) = OutboundEmail.objects.filter(template="case_mention")
    assert email.to_email == "kim.lee@example.com" and email.language == "th"
    assert f"#{case.pk}" in email.subject and "Ann Agent" in email.body_text
    assert f"/cases/{case.pk}/" in email.body_text
    assert '<mark class="mention">@Kim Lee</mark>' in html
    assert "&lt;them&gt;" in html and "<them>" not in html


@pytest.mark.parametrize(
    ("delta", "status", "expected"),
    [
        (timedelta(hours=3, minutes=5), "open", ("due in 3 h", False)),
        (timedelta(minutes=20, seconds=30), "waiting", ("due in 20 min", False)),
        (timedelta(days=4, hours=1), "open", ("due in 4 d", False)),
        (-timedelta(days=2, hours=3), "in_progress", ("overdue 2 d", True)),
        (-timedelta(hours=1, minutes=1), "open", ("overdue 1 h", True)),
        (-timedelta(days=2), "resolved", ("", False)),
    ],
)
def test_the_time_left_is_said_in_words(delta, status, expected):
    now = timezone.now()

    assert case_due_text(due_at=now + delta, status=status, now=now) == expected


def test_the_time_left_is_translated():
    from django.utils import translation

    now = timezone.now()
    with translation.override("th"):
        text, overdue = case_due_text(due_at=now - timedelta(days=3), status="open", now=now)

    assert overdue and "3" in text


def test_the_case_page_query_count_is_fixed(
    agent_client, organisation, make_case, django_assert_max_num_queries
):
    # given
    case = make_case(response=ResponseFactory(survey__organisation=organisation))
    for _ in range(5):
        AnswerFactory(response=case.response, sentiment=-0.2)

    with django_assert_max_num_queries(14):
        page = agent_client.get(case_url(organisation, case))

    assert page.status_code == 200
