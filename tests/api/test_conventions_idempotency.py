"""Idempotency-Key on every API write: a retry gets the first answer, Stripe's model
(communities/api/idempotency.py)."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from communities.api import views as members_api
from communities.api.idempotency import idempotency_records_expire
from communities.models import IdempotencyRecord, Member
from communities.services import api_token_create
from surveys.models import SurveyEvent
from tests.api.problems import problem
from tests.communities.members_api import members_url, new_member
from tests.factories.communities import CommunityFactory

pytestmark = pytest.mark.django_db


def key_client(organisation) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(organisation=organisation, name='k')[1]}"
    )
    return client


def post(client, url, body, key):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_gets_the_first_answer_and_writes_once(api, organisation, community):
    url = members_url(organisation, community)
    # when: the same write twice with one key
    first = post(api, url, new_member(), "add-kim")
    again = post(api, url, new_member(), "add-kim")
    # then
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Member.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.status, record.key, record.method) == (201, "add-kim", "POST")


def test_the_key_only_events_endpoint_replays_its_answer_and_location(
    api, organisation, survey, django_capture_on_commit_callbacks
):
    url = reverse("api:event_receive", args=[organisation.slug])
    event = {"type": "ticket_closed", "external_ref": "T-1", "email": "a@example.com"}
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, url, event, "ticket-T-1")
    again = post(api, url, event, "ticket-T-1")

    assert first.status_code == again.status_code == 202
    assert again["Location"] == first["Location"] and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again.json()["duplicate"] is False
    assert SurveyEvent.objects.count() == 1


def test_a_refused_write_is_kept_and_replayed_as_the_same_problem(api, organisation, community):
    url = members_url(organisation, community)

    first = post(api, url, {"email": "nope"}, "bad-one")
    again = post(api, url, {"email": "nope"}, "bad-one")

    assert problem(again, 400) == problem(first, 400)
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("change", ["body", "path"])
def test_the_same_key_for_another_request_is_a_422(api, organisation, community, change):
    post(api, members_url(organisation, community), new_member(), "k-1")
    other_community = CommunityFactory(organisation=organisation)
    url = members_url(organisation, other_community if change == "path" else community)
    body = new_member(name="Someone else") if change == "body" else new_member()

    answer = post(api, url, body, "k-1")

    assert problem(answer, 422)["code"] == "idempotency_key_reused"
    assert Member.objects.count() == 1


def test_the_key_while_its_first_request_runs_is_a_409(api, organisation, community):
    # given: the key's first request, as it is while it has not answered yet
    url = members_url(organisation, community)
    post(api, url, new_member(), "k-1")
    IdempotencyRecord.objects.update(status=None, body=None)
    # when
    answer = post(api, url, new_member(), "k-1")
    # then: told to wait, and nothing more written
    assert problem(answer, 409)["code"] == "idempotency_key_in_use"
    assert Member.objects.count() == 1


def test_a_claim_left_by_a_request_that_died_is_taken_over(api, organisation, community, key):
    token = organisation.api_tokens.get()
    url = members_url(organisation, community)
    IdempotencyRecord.objects.create(
        organisation=organisation,
        credential=f"token:{token.pk}",
        key="k-1",
        method="POST",
        path=url,
        fingerprint="0" * 64,
        created_at=timezone.now() - timedelta(minutes=10),
    )

    answer = post(api, url, new_member(), "k-1")

    assert answer.status_code == 201 and Member.objects.count() == 1


def test_other_callers_and_organisations_have_keys_of_their_own(
    api, organisation, community, other_organisation
):
    # given: one key string, sent by three callers
    theirs = CommunityFactory(organisation=other_organisation)
    calls = [
        (api, members_url(organisation, community), "kim@example.com"),
        (key_client(organisation), members_url(organisation, community), "lee@example.com"),
        (
            key_client(other_organisation),
            members_url(other_organisation, theirs),
            "kim@example.com",
        ),
    ]
    # when
    answers = [post(client, url, new_member(email=email), "same") for client, url, email in calls]
    # then: each wrote
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert all("Idempotent-Replayed" not in a for a in answers)
    assert Member.objects.count() == 3


def test_a_staff_session_write_takes_a_key_too(staff_client, organisation, community):
    url = members_url(organisation, community)
    answers = [
        staff_client.post(
            url, new_member(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="s-1"
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1]["Idempotent-Replayed"] == "true" and Member.objects.count() == 1


@pytest.mark.parametrize("bad_key", ["", "x" * 256, "naïve", "tab\tkey"])
def test_a_key_that_is_not_1_to_255_visible_characters_is_a_400(
    api, organisation, community, bad_key
):
    answer = post(api, members_url(organisation, community), new_member(), bad_key)

    assert problem(answer, 400)["code"] == "idempotency_key_invalid"
    assert not Member.objects.exists() and not IdempotencyRecord.objects.exists()


def test_a_255_character_key_is_fine(api, organisation, community):
    answer = post(api, members_url(organisation, community), new_member(), "k" * 255)
    assert answer.status_code == 201


def test_answers_to_retry_are_not_kept_a_server_error_and_a_conflict(
    api, organisation, community, key, monkeypatch
):
    url = members_url(organisation, community)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    # given: the service fails once
    real = members_api.member_create

    def fails_once(**kwargs):
        monkeypatch.setattr(members_api, "member_create", real)
        raise RuntimeError("database fell over")

    monkeypatch.setattr(members_api, "member_create", fails_once)
    # when: the write fails, and is retried with its key
    failed = post(client, url, new_member(), "k-1")
    retried = post(client, url, new_member(), "k-1")
    # then: the retry ran
    assert failed.status_code == 500
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    # and a 409 (the address is a member now) is not kept either
    conflict = post(client, url, new_member(), "k-2")
    assert conflict.status_code == 409
    assert not IdempotencyRecord.objects.filter(key="k-2").exists()


def test_reads_ignore_the_key(api, organisation, community):
    answer = api.get(members_url(organisation, community), HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert answer.status_code == 200 and not IdempotencyRecord.objects.exists()


# --- expiry ---------------------------------------------------------------------------------


def test_a_key_older_than_the_ttl_is_new_again_and_the_sweep_deletes_old_records(
    api, organisation, community
):
    url = members_url(organisation, community)
    post(api, url, new_member(), "k-1")
    stale = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS, minutes=1)
    IdempotencyRecord.objects.update(created_at=stale)
    # when: the key comes again with another body
    answer = post(api, url, new_member(email="other@example.com"), "k-1")
    # then: a new request, not a reuse
    assert answer.status_code == 201 and Member.objects.count() == 2
    # and the sweep deletes what is past the TTL, only that
    IdempotencyRecord.objects.create(
        organisation=organisation,
        credential="user:1",
        key="old",
        method="POST",
        path=url,
        fingerprint="0" * 64,
        status=201,
        created_at=stale,
    )
    assert idempotency_records_expire() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-1"]


def test_the_sweep_runs_from_beat():
    entries = [
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"].endswith("idempotency_records_expire_task")
    ]
    assert entries == ["communities.api.tasks.idempotency_records_expire_task"]
    from communities.api.tasks import idempotency_records_expire_task

    assert idempotency_records_expire_task.name == entries[0]


# --- concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_key_while_its_first_request_runs_is_refused_and_only_one_write_happens(
    organisation, community, key, monkeypatch
):
    # given: a first request held inside the write
    started, release = threading.Event(), threading.Event()
    real = members_api.member_create

    def held(**kwargs):
        started.set()
        release.wait(20)
        return real(**kwargs)

    monkeypatch.setattr(members_api, "member_create", held)
    url = members_url(organisation, community)
    answers = {}

    def first():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
            answers["first"] = post(client, url, new_member(), "k-1")
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(20)
    # when: the retry comes while it runs
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    during = post(client, url, new_member(), "k-1")
    release.set()
    thread.join(20)
    after = post(client, url, new_member(), "k-1")
    # then
    assert problem(during, 409)["code"] == "idempotency_key_in_use"
    assert answers["first"].status_code == after.status_code == 201
    assert after["Idempotent-Replayed"] == "true"
    assert Member.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_with_one_key_write_once(organisation, community, key):
    # given: eight clients sending the same keyed write at the same moment
    url = members_url(organisation, community)
    barrier = threading.Barrier(8)
    statuses, bodies = [], []

    def send():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
            barrier.wait(20)
            answer = post(client, url, new_member(), "k-1")
            statuses.append(answer.status_code)
            if answer.status_code == 201:
                bodies.append(answer.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then: one write; the others waited (409) or got its answer
    assert Member.objects.count() == 1
    assert set(statuses) <= {201, 409} and 201 in statuses and len(statuses) == 8
    assert all(body == bodies[0] for body in bodies)
