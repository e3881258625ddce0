"""Answering a survey writes exactly the rows it always wrote.

Issue 13 rewrote the answering hot path (the respondent page and kiosk submits,
`response_submit`, the follow-up and sentiment reactions) into a few set-based statements.
Faster must not mean different: a submit has to create, change and delete exactly the rows
the old path did, with the same values, on SQLite and PostgreSQL alike. So each scenario
below sends a real request through the public HTTP path, runs what is enqueued after
commit (Celery is eager in tests), and compares every row of every table that the request
created, changed or deleted with a golden file in tests/data/submit_rows/, recorded by
running this module against the code from before the rewrite.

A dump is independent of the database and of the run:

- rows are named, not numbered: objects the test made have names ("member:ana", "q1:nps",
  "q3:Coffee") or their rank in their table ("communities.user@1"); rows a step created are
  "<model>#<n>", numbered in an order decided by their contents, never by insertion order;
  foreign keys and the ids inside JSON and keys ("followup:response:<id>") become names;
- times are placed in the request's window rather than dropped: "now" (between the start
  of the request and the end of its after-commit work), "now, to the hour", "today,
  midnight", an offset in whole days from one of those, or "before" (set-up time);
  anything else fails the test;
- keys derived from a random token are named after it ("answer_key_stored(form key 1)"),
  and the unsubscribe token in an email by its shape.

Set CHORUS_WRITE_GOLDENS=1 to record the goldens instead of comparing (only against the
old code: a golden is the old path's behaviour, not whatever the code does today).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from communities.choices import MemberStatus, Role
from feedback.choices import Condition
from surveys.choices import Anonymity, QuestionType, SurveyKind
from surveys.services import kiosk_register, question_add, survey_create, survey_publish
from surveys.services.invitations import invitation_link_token
from tests.factories.communities import (
    LocationFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.feedback import FollowUpRuleFactory
from tests.factories.surveys import SurveyFactory, SurveyInvitationFactory
from tests.surveys.rowdump import Recorder
from tests.surveys.rowworld import TEXTS, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder(django_capture_on_commit_callbacks) -> Recorder:
    return Recorder(django_capture_on_commit_callbacks)


@pytest.fixture
def world(organisation, recorder) -> World:
    return World(organisation, recorder)


CONSENT = {"consent_to_contact": "on"}


# --- members on the survey's link -------------------------------------------------------------


def test_a_member_promoter_writes_the_response_points_and_activity(world, recorder):
    # given: a lapsed member, who comes back to answer
    ana = world.member(
        "ana",
        status=MemberStatus.LAPSED,
        last_active_at=timezone.now() - dt.timedelta(days=90),
    )
    # when
    world.answer(ana.client, nps=9, stars=5, text=TEXTS["promoter"])
    # then: the response, its answers and choices, the participation, the points, the
    # member active again; the text is scored, and no case is opened
    recorder.check("member_promoter")


def test_a_member_detractor_who_may_be_contacted_gets_a_case_and_a_follow_up(world, recorder):
    # given
    ana = world.member("ana")
    # when: a 3 and an angry text, with the box "you may email me" ticked
    world.answer(ana.client, nps=3, stars=2, text=TEXTS["negative"], extra=CONSENT)
    # then: a high-priority case (from the scores; the text's sentiment adds no reason to
    # it), the consent record, the follow-up email row (sent after commit) and its
    # unsubscribe link's token
    recorder.check("member_detractor_consent")


def test_a_member_detractor_without_consent_gets_a_case_and_no_email(world, recorder):
    # given
    ana = world.member("ana")
    # when
    world.answer(ana.client, nps=3, stars=2, text=TEXTS["negative"])
    # then: the case, and neither a consent record nor an email
    recorder.check("member_detractor_no_consent")


def test_a_negative_text_alone_opens_a_case_once_scored(world, recorder, organisation):
    # given: a suggestion box, one text question; no score rule can match
    box = SurveyFactory(
        organisation=organisation,
        community=world.community,
        title={"en": "Suggestion box"},
        languages=["en"],
        points=5,
    )
    question_add(survey=box, type=QuestionType.TEXT, text={"en": "Tell us anything"})
    world.survey_named("box:", box)
    ana = world.member("ana")
    # when
    world.answer(ana.client, survey=box, text=TEXTS["negative"], extra=CONSENT)
    # then: the text's sentiment (below -0.3) opens the case and queues the email
    recorder.check("member_text_only_negative")


def test_good_scores_with_a_negative_text_open_a_case_for_the_text(world, recorder):
    # given
    ana = world.member("ana")
    # when: a 9 and five stars, but an angry comment, with the box ticked
    world.answer(ana.client, nps=9, stars=5, text=TEXTS["negative"], extra=CONSENT)
    # then: the scores match no rule, the comment's sentiment does: a normal-priority case
    # naming it, and the follow-up email
    recorder.check("member_good_scores_negative_text")


def test_a_member_answering_anonymously_goes_to_the_pool(world, recorder):
    # given: a survey where respondents may choose to answer anonymously
    world.survey.anonymity = Anonymity.RESPONDENT_CHOICE
    world.survey.anonymous_points = True
    world.survey.save()
    ana = world.member("ana")
    # when: a member chooses to
    world.answer(ana.client, nps=2, text=TEXTS["negative"], extra={"answer_anonymously": "on"})
    # then: a pooled answer and a participation owing the points; no response, case or
    # ledger entry; the member's activity recorded by the day only
    recorder.check("member_anonymous_pooled")


def test_the_answer_that_completes_a_batch_releases_the_pool(world, recorder):
    # given: an anonymous survey, and four members' answers waiting in the pool (k is 5)
    world.survey.anonymity = Anonymity.ANONYMOUS
    world.survey.anonymous_points = True
    world.survey.save()
    url = reverse("surveys:survey_respond", args=[world.survey.public_id])
    for name, nps in (("bea", 10), ("cal", 8), ("dan", 5), ("eve", 1)):
        other = world.member(name)
        sent = other.client.post(url, world.answers(nps=nps, key=world.open(other.client)))
        assert sent.status_code == 302
    ana = world.member("ana")
    # when: the fifth answer arrives
    world.answer(ana.client, nps=3, text=TEXTS["negative"])
    # then: after commit the batch becomes five responses stamped with the hour, with fresh
    # keys, scored, with cases for the detractors at the same hour; the pool is emptied and
    # the points follow, dated by the day
    recorder.check("member_anonymous_releases_batch")


def test_a_double_submit_writes_nothing_more(world, recorder):
    # given: a member's answer, stored
    ana = world.member("ana")
    key = world.open(ana.client)
    world.send(ana.client, "submit", key=key, nps=8, text=TEXTS["promoter"])
    # when: the same form is sent again (a double tap)
    world.send(ana.client, "the same form again", key=key, nps=8, text=TEXTS["promoter"])
    # then: thanked again, nothing written
    recorder.check("member_double_submit")


def test_a_second_answer_by_a_member_is_refused_and_writes_nothing(world, recorder):
    # given: a member with the survey open in two tabs, who answers in one
    ana = world.member("ana")
    second_tab = world.open(ana.client)
    world.answer(ana.client, nps=9)
    # when: a page opened before the first answer sends other answers
    world.send(ana.client, "another form", key=second_tab, nps=2, text=TEXTS["negative"])
    # then: told it was already answered and not saved (409); nothing written
    recorder.check("member_second_answer_refused")


def test_a_survey_taking_many_answers_stores_each_and_awards_once(world, recorder):
    # given: a survey that takes more than one answer per member
    world.survey.allow_multiple_responses = True
    world.survey.save()
    ana = world.member("ana")
    # when: a member answers it twice
    world.answer(ana.client, "first answer", nps=9)
    world.answer(ana.client, "second answer", nps=6, stars=4)
    # then: two responses (the second opens a case), one participation, one award; the
    # second answer moves the member's activity on
    recorder.check("member_answers_twice")


def test_organisation_rules_alert_staff_about_a_choice_and_email_the_respondent(
    world, recorder, organisation
):
    # given: the organisation's own rules: a low-ish score emails the respondent, and
    # choosing Wi-Fi alerts the staff who work cases (an agent reads Thai)
    wifi = world.survey.questions.get(type=QuestionType.MULTI_CHOICE).choices.get(label__en="Wi-Fi")
    FollowUpRuleFactory(organisation=organisation, condition=Condition.NPS_AT_MOST, threshold=8)
    FollowUpRuleFactory(
        organisation=organisation,
        condition=Condition.CHOICE_SELECTED,
        threshold=None,
        choice=wifi,
        email_respondent=False,
        alert_staff=True,
    )
    for email, role, locale in (
        ("owner@demo-coffee.example", Role.OWNER, ""),
        ("agent@demo-coffee.example", Role.AGENT, "th"),
        ("analyst@demo-coffee.example", Role.ANALYST, ""),
    ):
        user = UserFactory(email=email, name=role.label, locale=locale)
        StaffRoleFactory(user=user, organisation=organisation, role=role)
        recorder.names.name(user, f"user:{role}")
    ana = world.member("ana")
    # when: a member who may be contacted picks Wi-Fi among others and scores 8
    world.answer(ana.client, nps=8, stars=4, extra=CONSENT)
    # then: one case with both reasons, the follow-up to the member, an alert to the owner
    # and to the agent (in Thai), all sent after commit
    recorder.check("member_organisation_rules")


def test_an_other_answer_is_kept_and_a_skipped_questions_answer_dropped(
    world, recorder, organisation
):
    # given: a survey whose "what went wrong?" shows only for a score of 6 or less, and
    # whose choice questions take an answer of the respondent's own
    survey = survey_create(
        organisation=organisation,
        community=world.community,
        title={"en": "Branching visit"},
        languages=["en"],
    )
    nps = question_add(survey=survey, type=QuestionType.NPS, text={"en": "Recommend us?"})
    why = question_add(
        survey=survey,
        type=QuestionType.TEXT,
        text={"en": "What went wrong?"},
        settings={"show_if": {"question": nps.pk, "op": "lte", "value": 6}},
    )
    drinks = question_add(
        survey=survey,
        type=QuestionType.MULTI_CHOICE,
        text={"en": "What did you drink?"},
        required=False,
        settings={"other": True},
        choices=[{"en": "Coffee"}, {"en": "Cake"}],
    )
    visit = question_add(
        survey=survey,
        type=QuestionType.SINGLE_CHOICE,
        text={"en": "Why did you come?"},
        required=False,
        settings={"other": True},
        choices=[{"en": "Work"}, {"en": "Friends"}],
    )
    world.survey_named("branching:", survey_publish(survey=survey))
    ana = world.member("ana")
    key = world.open(ana.client, survey)
    # when: a 9, a stale answer to the skipped question, a choice with an "other" text, and
    # an "other" text instead of a choice
    world.post(
        ana.client,
        "submit",
        survey,
        {
            "idempotency_key": key,
            f"q_{nps.pk}": 9,
            f"q_{why.pk}": "left over from an earlier 3",
            f"q_{drinks.pk}": [drinks.choices.get(label__en="Cake").pk],
            f"q_{drinks.pk}_other": "  Oat milk latte  ",
            f"q_{visit.pk}_other": "To read",
        },
    )
    # then: the skipped question has no answer; the "other" texts are stored trimmed
    recorder.check("member_other_and_skipped")


# --- personal invitation links ----------------------------------------------------------------


def open_invitation(client: Client, invitation) -> None:
    url = reverse("surveys:invitation_open", args=[invitation_link_token(invitation=invitation)])
    assert client.get(url).status_code == 302


def test_a_guest_answers_through_their_personal_link(world, recorder):
    # given: an invitation to an address that is no member's, opened in a browser
    guest = SurveyInvitationFactory(
        survey=world.survey,
        email="guest@example.com",
        name="Gus Guest",
        language="en",
        sent_at=timezone.now(),
    )
    recorder.names.name(guest, "invitation:guest")
    browser = Client()
    open_invitation(browser, guest)
    # when
    world.answer(browser, nps=6, stars=4, text=TEXTS["negative"], extra=CONSENT)
    # then: the response names the invitation, which is used; the follow-up goes to its
    # address; the invitation leaves the session
    recorder.check("invitation_guest")


def test_a_member_answers_through_their_personal_link_without_signing_in(world, recorder):
    # given: a member's personal invitation, opened in a browser where they are not signed in
    ana = world.member("ana")
    invitation = SurveyInvitationFactory(
        survey=world.survey,
        member=ana,
        email=ana.email,
        name="Ana Lima",
        language="en",
        sent_at=timezone.now(),
    )
    recorder.names.name(invitation, "invitation:ana")
    browser = Client()
    open_invitation(browser, invitation)
    # when
    world.answer(browser, nps=10, text=TEXTS["promoter"])
    # then: the member's response through the used invitation, with their points
    recorder.check("invitation_member")


# --- visitors on a public link ----------------------------------------------------------------


def test_a_visitor_answers_on_the_public_link(world, recorder):
    # given: a browser with no account
    browser = Client()
    # when
    world.answer(browser, nps=7, stars=4, text=TEXTS["promoter"])
    # then: an anonymous response to the hour, keyed by the browser's cookie
    recorder.check("visitor_public_link")


def test_a_visitor_sending_again_writes_nothing(world, recorder):
    # given: a visitor's answer, stored under their browser's key
    browser = Client()
    key = world.open(browser)
    world.send(browser, "submit", key=key, nps=7)
    # when: they go back and send the same answers, then different ones
    world.send(browser, "the same answers again", key=key, nps=7)
    world.send(browser, "other answers", key=key, nps=1, text=TEXTS["negative"])
    # then: thanked for the same answers, told the others were not saved; nothing written
    recorder.check("visitor_sends_again")


# --- kiosks -----------------------------------------------------------------------------------


@pytest.fixture
def kiosk(world):
    store = LocationFactory(organisation=world.organisation, name="Siam Square", code="siam")
    kiosk = kiosk_register(survey=world.survey, location=store)
    world.recorder.names.name(store, "location:siam")
    world.recorder.names.name(kiosk, "kiosk")
    world.recorder.names.secret(kiosk.device_token, "<kiosk device token>")
    return kiosk


def kiosk_send(world, kiosk, name: str, key: str, **answers):
    body = {
        "idempotency_key": key,
        "language": "en",
        "answers": {k: v for k, v in world.answers(**answers).items() if k != "idempotency_key"},
    }
    url = reverse("surveys:kiosk_submit", args=[kiosk.device_token])
    client = Client()
    return world.recorder.step(
        name, lambda: client.post(url, json.dumps(body), content_type="application/json")
    )


def test_a_kiosk_promoter_is_stored_anonymously_for_the_store(world, recorder, kiosk):
    # when: a walk-in customer answers on the store's kiosk
    kiosk_send(world, kiosk, "submit", "kiosk-answer-0001", nps=10, text=TEXTS["promoter"])
    # when: the kiosk replays its queue
    kiosk_send(world, kiosk, "replay", "kiosk-answer-0001", nps=10, text=TEXTS["promoter"])
    # then: one anonymous response for the store and kiosk, to the hour (201); the replay
    # writes nothing (200)
    recorder.check("kiosk_promoter")


def test_a_kiosk_detractor_opens_a_case_at_the_hour(world, recorder, kiosk):
    # when
    kiosk_send(world, kiosk, "submit", "kiosk-answer-0002", nps=2, stars=1, text=TEXTS["negative"])
    # then: the case records the response's hour, never the moment of the answer
    recorder.check("kiosk_detractor")


# --- quick polls ------------------------------------------------------------------------------


@pytest.fixture
def poll(world):
    poll = survey_create(
        organisation=world.organisation,
        community=world.community,
        title={"en": "Oat milk?"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question_add(
        survey=poll,
        type=QuestionType.SINGLE_CHOICE,
        text={"en": "Should we stock oat milk?"},
        choices=[{"en": "Yes please"}, {"en": "No thanks"}],
    )
    poll.points = 2
    poll.save()
    return world.survey_named("poll:", survey_publish(survey=poll))


def test_a_member_votes_in_a_quick_poll(world, recorder, poll):
    # given
    ana = world.member("ana")
    # when
    world.answer(ana.client, "vote", survey=poll)
    # then: the vote, the participation and the poll's points; back to the results
    recorder.check("poll_member_vote")


def test_a_visitor_votes_in_a_quick_poll(world, recorder, poll):
    # when
    world.answer(Client(), "vote", survey=poll)
    # then: an anonymous vote to the hour, keyed by the browser's poll cookie
    recorder.check("poll_visitor_vote")
