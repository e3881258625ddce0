"""SLA escalation through a real Celery worker over Redis and a real SMTP server: the
beat's sweep task, run by the worker, emails the team lead of an overdue case once, even
when the sweep is sent twice at the same time."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from communities.choices import Role
from feedback.choices import CaseEventKind
from feedback.models import CaseEvent
from feedback.tasks import case_escalation_sweep_task
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.feedback import CaseFactory, TeamFactory
from tests.worker_fixtures import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_an_overdue_case_reaches_its_team_lead_through_the_worker_once(
    celery_worker_process, smtp_sink, organisation
):
    # given: a case of the store team, answered, but past its resolution target
    sink, _port = smtp_sink
    lead = UserFactory(email="escalation-lead@example.com", name="Lek Lead")
    StaffRoleFactory(organisation=organisation, user=lead, role=Role.AGENT)
    team = TeamFactory(organisation=organisation, name="Siam store", lead=lead)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    case = CaseFactory(
        response__survey__organisation=organisation,
        team=team,
        first_response_at=past,
        due_at=past,
    )

    # when: the beat's sweep is sent twice at once
    case_escalation_sweep_task.delay()
    case_escalation_sweep_task.delay()

    # then: the lead gets one email about the case, and the timeline says so once
    messages = sink.wait_for(lead.email)
    assert len(messages) == 1
    assert f"Case #{case.pk} is past its resolution target" in messages[0]["Subject"]
    assert wait_until(
        lambda: CaseEvent.objects.filter(case=case, kind=CaseEventKind.ESCALATED).exists(),
        timeout=10,
    )
    time.sleep(2)  # a second email, were there one, would be on its way by now
    assert len(sink.to(lead.email)) == 1
    assert CaseEvent.objects.filter(case=case, kind=CaseEventKind.ESCALATED).count() == 1
