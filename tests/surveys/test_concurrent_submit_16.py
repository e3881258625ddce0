"""Sixteen clients at once, through the real request path, on PostgreSQL.

The answering path is a few set-based statements that lean on unique constraints and row
locks instead of reads (issue 13). These tests make sixteen browsers, devices or kiosks
send at the same moment — each thread its own test Client and its own database
connection, released together by a barrier — and check that the database still ends up
with exactly one answer, one award and one used link where there must be one, and that
every client is told the truth (thanked, told it was already answered, or 200 for a
kiosk replay).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test import Client
from django.urls import reverse

from rewards.choices import LedgerReason
from rewards.models import LedgerEntry
from rewards.selectors import member_balance
from rewards.services import InsufficientPoints, points_award, points_debit
from surveys.models import Participation, Response, SurveyInvitation
from surveys.services import kiosk_register
from surveys.services.invitations import invitation_link_token
from surveys.services.responses import survey_points_key
from tests.factories.communities import (
    ConsentRecordFactory,
    LocationFactory,
    MemberFactory,
    UserFactory,
)
from tests.factories.surveys import SurveyInvitationFactory
from tests.surveys.helpers import answers_for

CLIENTS = 16

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "SQLite serialises writers (one write transaction at a time, taken at BEGIN), "
            "so sixteen clients never overlap there; these races need PostgreSQL"
        ),
    ),
]


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, all released together; their results in order.

    Each thread opens its own database connection and closes it when done.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a client never finished"
    if errors:
        raise errors[0]
    return results


def survey_url(survey) -> str:
    return reverse("surveys:survey_respond", args=[survey.public_id])


def thanks_url(survey) -> str:
    return reverse("surveys:survey_thanks", args=[survey.public_id])


def page_key(client: Client, survey) -> str:
    """The page's answer key, read from its HTML as a browser sends it back (a page a
    process kept is served without rendering a template)."""
    page = client.get(survey_url(survey)).content.decode()
    return re.search(r'name="idempotency_key" value="([^"]*)"', page).group(1)


def signed_in(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def same_browser(client: Client) -> Client:
    """Another connection from the same browser (same session cookie): a double tap."""
    twin = Client()
    for name, morsel in client.cookies.items():
        twin.cookies[name] = morsel.value
    return twin


def new_member(community, name: str):
    user = UserFactory(email=f"{name}@example.com")
    member = MemberFactory(community=community, user=user, email=user.email)
    ConsentRecordFactory(member=member, policy_version=community.policy_version)
    return member


def post(client: Client, url: str, data: dict) -> Callable[[], Any]:
    return lambda: client.post(url, data)


# --- one member ---------------------------------------------------------------------------------


def test_sixteen_taps_on_one_form_store_one_response_and_award_once(survey, member):
    # given: one page, sent sixteen times at once from the same browser
    browser = signed_in(member)
    data = {**answers_for(survey, nps=9), "idempotency_key": page_key(browser, survey)}
    clients = [same_browser(browser) for _ in range(CLIENTS)]
    # when
    pages = at_once([post(c, survey_url(survey), data) for c in clients])
    # then: one response, one participation, the points once
    assert Response.objects.count() == 1 and Participation.objects.count() == 1
    assert member_balance(member=member) == survey.points
    assert LedgerEntry.objects.count() == 1
    # and all sixteen get the same thank-you
    assert {(p.status_code, p["Location"].split("?")[0]) for p in pages} == {
        (302, thanks_url(survey))
    }


def test_sixteen_different_forms_of_one_member_keep_one_and_refuse_the_rest(survey, member):
    # given: sixteen pages of the survey, open in sixteen tabs
    browser = signed_in(member)
    keys = [page_key(browser, survey) for _ in range(CLIENTS)]
    clients = [same_browser(browser) for _ in range(CLIENTS)]
    # when: each sends its own answers at once
    pages = at_once(
        [
            post(c, survey_url(survey), {**answers_for(survey, nps=i % 11), "idempotency_key": k})
            for i, (c, k) in enumerate(zip(clients, keys, strict=True))
        ]
    )
    # then: one stored, fifteen told it was already answered and not saved
    assert Counter(p.status_code for p in pages) == {302: 1, 409: CLIENTS - 1}
    assert Response.objects.count() == 1 and Participation.objects.count() == 1
    assert member_balance(member=member) == survey.points
    refused = [p for p in pages if p.status_code == 409]
    assert all("already answered" in p.content.decode() for p in refused)


# --- one personal link --------------------------------------------------------------------------


def test_sixteen_devices_on_one_personal_link_store_one_response(survey):
    # given: one invitation opened on sixteen devices
    invitation = SurveyInvitationFactory(survey=survey, email="guest@example.com", language="en")
    link = reverse("surveys:invitation_open", args=[invitation_link_token(invitation=invitation)])
    devices = [Client() for _ in range(CLIENTS)]
    for device in devices:
        assert device.get(link).status_code == 302
    data = [
        {**answers_for(survey, nps=i % 11), "idempotency_key": page_key(d, survey)}
        for i, d in enumerate(devices)
    ]
    # when: all answer at once
    pages = at_once(
        [post(d, survey_url(survey), body) for d, body in zip(devices, data, strict=True)]
    )
    # then: one response, naming the invitation, which is used; the rest refused
    assert Counter(p.status_code for p in pages) == {302: 1, 409: CLIENTS - 1}
    response = Response.objects.get()
    assert response.invitation_id == invitation.pk
    assert SurveyInvitation.objects.get(pk=invitation.pk).responded_at is not None


# --- one kiosk ----------------------------------------------------------------------------------


def test_sixteen_replays_of_one_kiosk_answer_store_it_once(survey, organisation):
    # given: a kiosk resending one queued answer over sixteen connections
    kiosk = kiosk_register(survey=survey, location=LocationFactory(organisation=organisation))
    answers = answers_for(survey, nps=3)
    answers.pop("idempotency_key")
    body = json.dumps({"idempotency_key": "kiosk-replayed", "language": "en", "answers": answers})
    url = reverse("surveys:kiosk_submit", args=[kiosk.device_token])
    clients = [Client() for _ in range(CLIENTS)]
    # when
    pages = at_once(
        [lambda c=c: c.post(url, body, content_type="application/json") for c in clients]
    )
    # then: one response; one 201, fifteen 200 naming the same response
    response = Response.objects.get()
    assert Counter(p.status_code for p in pages) == {201: 1, 200: CLIENTS - 1}
    assert {p.json()["id"] for p in pages} == {response.pk}
    assert [p.json()["created"] for p in pages].count(True) == 1


# --- many members and the ledger ------------------------------------------------------------------


def test_sixteen_members_answering_while_points_are_awarded_keep_the_ledger_exact(
    survey, community
):
    # given: sixteen members, each with the survey open
    members = [new_member(community, f"person{i}") for i in range(CLIENTS)]
    browsers = [signed_in(m) for m in members]
    data = [
        {**answers_for(survey, nps=i % 11), "idempotency_key": page_key(b, survey)}
        for i, b in enumerate(browsers)
    ]

    def bonus(member) -> Callable[[], Any]:
        # Two callers award the same bonus (a retried task): the key lets one through.
        return lambda: points_award(
            member=member,
            points=5,
            reason=LedgerReason.ADJUSTMENT,
            source="test",
            idempotency_key=f"bonus:member:{member.pk}",
        )

    half = members[: CLIENTS // 2]
    # when: all answer at once while bonuses are awarded, each bonus twice
    pages = at_once(
        [post(b, survey_url(survey), body) for b, body in zip(browsers, data, strict=True)]
        + [bonus(m) for m in half]
        + [bonus(m) for m in half]
    )
    # then: every answer stored and every award made once
    assert [p.status_code for p in pages[:CLIENTS]] == [302] * CLIENTS
    assert Response.objects.count() == CLIENTS == Participation.objects.count()
    keys = LedgerEntry.objects.values("idempotency_key").annotate(n=Count("pk"))
    assert {row["n"] for row in keys} == {1}
    assert set(LedgerEntry.objects.values_list("idempotency_key", flat=True)) == {
        survey_points_key(survey_id=survey.pk, member_id=m.pk) for m in members
    } | {f"bonus:member:{m.pk}" for m in half}
    # and the ledger sums exactly
    total = LedgerEntry.objects.aggregate(total=Sum("points"))["total"]
    assert total == CLIENTS * survey.points + len(half) * 5
    for i, member in enumerate(members):
        assert member_balance(member=member) == survey.points + (5 if i < len(half) else 0)


def test_sixteen_clients_spending_at_once_never_take_the_balance_below_zero(member):
    # given: 80 points, and sixteen clients each spending 10 at the same moment
    points_award(
        member=member, points=80, reason=LedgerReason.ADJUSTMENT, source="test", idempotency_key="k"
    )

    def spend(i: int) -> Callable[[], bool]:
        def call() -> bool:
            try:
                points_debit(
                    member=member,
                    points=10,
                    reason=LedgerReason.REDEMPTION_HOLD,
                    source="test",
                    idempotency_key=f"spend-{i}",
                )
            except InsufficientPoints:
                return False
            return True

        return call

    # when
    outcomes = at_once([spend(i) for i in range(CLIENTS)])
    # then: exactly eight succeed, and the balance is exactly zero
    assert outcomes.count(True) == 8
    assert member_balance(member=member) == 0
