"""The recovery check: resolving a case may ask the customer "Did we fix it?" by email;
the signed link is answered once, and a low answer reopens the case on its timeline."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from communities.choices import Role
from communities.outbox.models import OutboundEmail
from feedback.choices import CaseEventKind, CaseStatus
from feedback.models import Case, RecoveryCheck
from feedback.services.recovery import recovery_token
from feedback.timeline import case_event_actor, case_event_text
from tests.factories.communities import StaffRoleFactory
from tests.factories.feedback_cases import RootCauseFactory
from tests.feedback.api.helpers import anonymous_case, identified_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, organisation):
    agent = StaffRoleFactory(organisation=organisation, role=Role.AGENT).user
    client.force_login(agent)
    return client


def _resolve(client, case, *, recovery=True):
    cause = RootCauseFactory(organisation=case.organisation)
    return client.post(
        reverse("staff:case_status", args=[case.organisation.slug, case.pk]),
        {
            "status": "resolved",
            "resolution": "Replaced the order.",
            "root_cause": cause.pk,
            "recovery": "on" if recovery else "",
        },
        follow=True,
    )


def _link(email: OutboundEmail) -> str:
    return re.search(r"https?://\S+(/recovery/\S+/)", email.body_text).group(1)


def test_a_low_answer_reopens_the_case(agent_client, client, survey):
    # given: a resolved case whose customer is asked "Did we fix it?" in Thai
    case = identified_case(survey)
    case.response.language = "th"
    case.response.save(update_fields=["language"])
    page = _resolve(agent_client, case)
    assert "the customer is asked whether it is fixed" in page.content.decode()
    email = OutboundEmail.objects.get(template="case_recovery")
    assert email.language == "th"
    link = _link(email)

    # when: the customer opens the link and answers 1
    shown = client.get(link)
    answered = client.post(link, {"score": "1"})

    # then: the page was in Thai, and the case is open again, said on its timeline
    assert shown.status_code == 200 and 'lang="th"' in shown.content.decode()
    assert answered.status_code == 200
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.OPEN and case.root_cause is None
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[-3:] == [
        CaseEventKind.RECOVERY_SENT,
        CaseEventKind.RECOVERY_ANSWERED,
        CaseEventKind.STATUS_CHANGED,
    ]
    reopened = case.events.last()
    assert case_event_text(reopened) == "Reopened: the customer said the problem is not fixed"
    assert case_event_actor(reopened) == "Chorus"


def test_a_good_answer_leaves_the_case_resolved_and_is_taken_once(agent_client, client, survey):
    # given
    case = identified_case(survey)
    _resolve(agent_client, case)
    link = _link(OutboundEmail.objects.get(template="case_recovery"))

    # when: answered 5, then again 1 (a second click, a forwarded email)
    client.post(link, {"score": "5"})
    again = client.post(link, {"score": "1"})

    # then
    assert again.status_code == 409
    assert "answered this already" in again.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RESOLVED
    assert RecoveryCheck.objects.get().score == 5
    assert case.events.filter(kind=CaseEventKind.RECOVERY_ANSWERED).count() == 1


@pytest.mark.parametrize("score", [None, "", "0", "6", "x", "1" * 500])
def test_an_answer_that_is_not_1_to_5_is_refused(agent_client, client, survey, score):
    case = identified_case(survey)
    _resolve(agent_client, case)
    link = _link(OutboundEmail.objects.get(template="case_recovery"))

    answer = client.post(link, {} if score is None else {"score": score})

    assert answer.status_code == 400
    assert RecoveryCheck.objects.get().answered_at is None


def test_an_altered_or_expired_link_is_refused(agent_client, client, survey, settings):
    # given
    case = identified_case(survey)
    _resolve(agent_client, case)
    check = RecoveryCheck.objects.get()
    token = recovery_token(check=check)
    url = reverse("feedback_public:recovery_answer", args=[token])

    # when / then: altered
    altered = reverse("feedback_public:recovery_answer", args=[token[:-2] + "xx"])
    assert client.post(altered, {"score": "1"}).status_code == 404
    assert (
        client.get(reverse("feedback_public:recovery_answer", args=["x" * 600])).status_code == 404
    )
    # expired
    settings.CASES_RECOVERY_LINK_MAX_AGE_DAYS = -1
    assert client.post(url, {"score": "1"}).status_code == 404
    assert RecoveryCheck.objects.get().answered_at is None


def test_the_question_never_goes_to_an_anonymous_customer(agent_client, survey):
    # given
    case = anonymous_case(survey)

    # when
    page = _resolve(agent_client, case)

    # then: nothing sent, and the case is not resolved either (one transaction)
    assert "cannot be sent" in page.content.decode()
    assert not OutboundEmail.objects.exists() and not RecoveryCheck.objects.exists()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW


def test_resolving_without_the_question_sends_nothing(agent_client, survey):
    case = identified_case(survey)

    _resolve(agent_client, case, recovery=False)

    assert Case.objects.get(pk=case.pk).status == CaseStatus.RESOLVED
    assert not RecoveryCheck.objects.exists() and not OutboundEmail.objects.exists()
