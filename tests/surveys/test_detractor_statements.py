"""Issue 13's budget for the answering hot path, pinned: a detractor's survey submit (NPS 3,
consent ticked, a text answer) runs a bounded number of SQL statements, the work after
commit included (eager tasks: sentiment and the follow-up send), and no savepoint.

The figure `make bench-submit` prints (`manage.py bench_queries`) counts the same request
on the bench's smaller survey; this test counts it on the test survey, every question
type, so its numbers are the bench's plus the extra questions' rows (none on PostgreSQL,
where answers and choices are one statement).
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback.models import Case
from surveys.models import Response
from tests.factories.communities import ConsentRecordFactory, MemberFactory, UserFactory
from tests.surveys.helpers import answers_for

# Real commits: the follow-up is sent after commit, and that work is part of the count.
pytestmark = pytest.mark.django_db(transaction=True)

DETRACTOR_TEXT = "The wait was terrible and the cup was cold."
PROMOTER_TEXT = "Great coffee and friendly staff, lovely place!"
# Measured on this tree (the same as `make bench-submit`'s queries figure): the detractor's
# count today, held so it never grows again unnoticed. Since the follow-up's send marks its
# row on the request's own connection (no marker thread for a lone message), that UPDATE is
# counted on PostgreSQL too; the outbox claim also reads the suppression list itself. The
# survey and the member who answers it are one statement, and the organisation's service
# levels are read once per process until they change.
TODAY = {"postgresql": 10, "sqlite": 17}
# Issue 13's budget (14 on PostgreSQL); SQLite has no data-modifying CTE, so the case and its
# event stay two statements there.
TARGET = {"postgresql": 14, "sqlite": 21}
SAVEPOINT_HEADS = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


def _submit(survey, community, *, detractor: bool) -> list[str]:
    """A fresh signed-in member answers; returns every statement the request ran."""
    user = UserFactory()
    member = MemberFactory(community=community, user=user, email=user.email)
    ConsentRecordFactory(member=member, policy_version=community.policy_version)
    browser = Client()
    browser.force_login(user)
    url = reverse("surveys:survey_respond", args=[survey.public_id])
    browser.get(url)
    data = answers_for(
        survey, nps=3 if detractor else 9, text=DETRACTOR_TEXT if detractor else PROMOTER_TEXT
    )
    if detractor:
        data["consent_to_contact"] = "on"
    with CaptureQueriesContext(connection) as captured:
        page = browser.post(url, data)
    assert page.status_code == 302, page.content.decode()[:500]
    return [q["sql"] for q in captured.captured_queries]


@pytest.fixture
def detractor_statements(survey, community) -> list[str]:
    # given: the process has answered once each way (its per-process caches are warm, as
    # in a server that has been up a while)
    _submit(survey, community, detractor=False)
    _submit(survey, community, detractor=True)
    mail.outbox.clear()
    # when: a fresh member answers as a detractor
    statements = _submit(survey, community, detractor=True)
    # then: the answer, its case and its follow-up are all there (the count is of real work)
    latest = Response.objects.order_by("-pk").first()
    assert latest.consent_to_contact
    assert Case.objects.filter(response=latest).count() == 1
    assert len(mail.outbox) == 1
    return statements


def test_a_detractor_submit_runs_no_savepoint(detractor_statements):
    heads = [sql.lstrip().upper() for sql in detractor_statements]
    assert not [h for h in heads if h.startswith(SAVEPOINT_HEADS)]


def test_a_detractor_submit_runs_no_more_statements_than_today(detractor_statements):
    budget = TODAY[connection.vendor]
    assert len(detractor_statements) <= budget, "\n".join(detractor_statements)


def test_a_detractor_submit_keeps_to_issue_13s_budget(detractor_statements):
    budget = TARGET[connection.vendor]
    assert len(detractor_statements) <= budget, "\n".join(detractor_statements)
