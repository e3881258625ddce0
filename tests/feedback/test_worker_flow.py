"""Detractor → case → follow-up email, through a real Celery worker over Redis.

These run on the PostgreSQL + Redis leg of CI: the web side is Django's test client in
this process, the worker is a separate `celery worker` process, and the email is
accepted by a real SMTP server (aiosmtpd) listening on loopback.
"""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from kombu import pools

from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_redrive
from config.celery import app
from feedback.models import Case
from feedback.services import analysis_redrive
from surveys.models import Response
from tests.factories.communities import CommunityFactory, MemberFactory, UserFactory
from tests.factories.surveys import survey_with_every_question_type
from tests.surveys.helpers import answers_for
from tests.worker_fixtures import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def respondent():
    community = CommunityFactory()
    user = UserFactory()
    member = MemberFactory(community=community, user=user, email=user.email)
    survey = survey_with_every_question_type(
        organisation=community.organisation, community=community
    )
    client = Client()
    client.force_login(user)
    return survey, member, client


def _submit(client, survey, **answers) -> None:
    data = {**answers_for(survey, **answers), "consent_to_contact": "on"}
    page = client.post(reverse("surveys:survey_respond", args=[survey.public_id]), data)
    assert page.status_code == 302, page.content.decode()[:500]


def test_detractor_followup_email_arrives_through_the_worker_exactly_once(
    celery_worker_process, smtp_sink, respondent
):
    # given
    sink, _port = smtp_sink
    survey, member, client = respondent
    # when: a detractor with consent answers, with a comment for the sentiment task
    _submit(client, survey, nps=2, stars=4, text="The coffee was cold.")
    # then: the worker sends the follow-up to the SMTP sink
    messages = sink.wait_for(member.email)
    assert len(messages) == 1
    assert "what went wrong" in messages[0]["Subject"]
    case = Case.objects.get()
    assert "NPS 2" in case.reason
    assert wait_until(lambda: Response.objects.filter(analysed_at__isnull=False).exists())
    # and when the sweeps run again nothing is sent twice
    assert outbox_redrive(older_than=timedelta(0)) == 0
    analysis_redrive(older_than=timedelta(0))
    time.sleep(2)
    assert len(sink.to(member.email)) == 1
    assert OutboundEmail.objects.get().status == "sent"


def test_negative_comment_alone_opens_a_case_once_the_worker_scores_it(
    celery_worker_process, smtp_sink, respondent
):
    # given
    sink, _port = smtp_sink
    survey, member, client = respondent
    # when: good scores but an angry comment; only the sentiment task can flag it
    _submit(client, survey, nps=8, stars=4, text="Terrible service, rude staff, awful coffee.")
    # then
    assert wait_until(lambda: Case.objects.exists())
    assert [r["code"] for r in Case.objects.get().reasons] == ["sentiment"]
    assert len(sink.wait_for(member.email)) == 1
    answer = Response.objects.get().answers.get(question_type="text")
    assert answer.sentiment < -0.3


@pytest.fixture
def broker_down():
    """Point this process's publisher at a port where no broker listens, then restore it."""
    saved = app.conf.broker_url

    def _reset(url: str) -> None:
        # Celery caches the publisher's connection pools; drop them so the next
        # publish really dials `url`.
        app.conf.broker_url = url
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    _reset("redis://127.0.0.1:1/0")
    try:
        yield lambda: _reset(saved)
    finally:
        _reset(saved)


def test_response_is_saved_while_redis_is_down_and_mail_follows_when_it_returns(
    celery_worker_process, smtp_sink, respondent, broker_down
):
    # given: the broker is unreachable from the web side
    sink, _port = smtp_sink
    survey, member, client = respondent
    # when
    started = time.monotonic()
    _submit(client, survey, nps=1, stars=1)
    elapsed = time.monotonic() - started
    # then: the answer, its case and its outbox row are committed; nothing was sent
    assert Response.objects.count() == 1 and Case.objects.count() == 1
    assert OutboundEmail.objects.get().status == "pending"
    assert sink.to(member.email) == []
    assert elapsed < 10, "a dead broker must not hold the request"
    # when the broker is back and the beat sweep runs
    broker_down()
    assert outbox_redrive(older_than=timedelta(0)) == 1
    # then the email arrives, once
    assert len(sink.wait_for(member.email)) == 1
    time.sleep(1)
    assert len(sink.to(member.email)) == 1
