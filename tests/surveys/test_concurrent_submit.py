"""Two submits racing each other store one response and award points once."""

import threading

import pytest
from django.db import connection

from rewards.selectors import member_balance
from surveys.models import Participation, Response
from surveys.services import AlreadyAnswered, response_submit
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db(transaction=True)


def race(survey, member, keys: list[str]) -> list[object]:
    data = answers_for(survey, nps=4)
    data.pop("idempotency_key")
    barrier = threading.Barrier(len(keys))
    outcomes: list[object] = [None] * len(keys)

    def submit(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = response_submit(
                survey=survey, raw_answers=data, idempotency_key=keys[i], member=member
            )
        except AlreadyAnswered as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_the_same_form_submitted_twice_at_once_stores_one_response(survey, member):
    outcomes = race(survey, member, ["same-key"] * 4)
    assert Response.objects.count() == 1
    assert {o.response.pk for o in outcomes} == {Response.objects.get().pk}
    assert [o.created for o in outcomes].count(True) == 1
    assert member_balance(member=member) == survey.points


def test_two_forms_submitted_at_once_keep_the_first_and_refuse_the_second(survey, member):
    outcomes = race(survey, member, ["key-a", "key-b", "key-c"])
    assert Response.objects.count() == 1 and Participation.objects.count() == 1
    assert sum(isinstance(o, AlreadyAnswered) for o in outcomes) == 2
    assert member_balance(member=member) == survey.points
