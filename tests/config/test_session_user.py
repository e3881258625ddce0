"""A signed-in request reads its session and its user in one query, and signs in exactly
whom Django's own session and auth code would: the same checks, the same refusals."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.models import UserSession
from tests.factories.communities import UserFactory

pytestmark = pytest.mark.django_db

# A page that shows whom it thinks is signed in, and reads nothing else for it.
PAGE = "account_email"


def _signed_in(client: Client, user) -> str:
    client.force_login(user)
    return client.cookies["sessionid"].value


def _user_reads(client: Client) -> tuple[int, list[str]]:
    """(status, the statements that read the session or the user table) of one page."""
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse(PAGE))
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and ('"django_session"' in q["sql"] or 'FROM "communities_user"' in q["sql"])
    ]
    return page.status_code, reads


def test_the_session_row_names_its_user(client):
    user = UserFactory()
    key = _signed_in(client, user)
    assert UserSession.objects.get(session_key=key).user_id == user.pk
    # Django's own model still sees the row: the table is the same.
    assert Session.objects.filter(session_key=key).exists()


def test_a_signed_in_page_reads_session_and_user_in_one_query(client):
    user = UserFactory()
    _signed_in(client, user)
    status, reads = _user_reads(client)
    assert status == 200
    assert len(reads) == 1, reads
    assert '"communities_user"' in reads[0] and '"django_session"' in reads[0]


def test_a_session_row_without_the_column_still_signs_in_with_a_second_query(client):
    # given: a session written by Django's own model (or before the column existed)
    user = UserFactory()
    key = _signed_in(client, user)
    UserSession.objects.filter(session_key=key).update(user=None)
    # when / then: Django's get_user reads the user itself
    status, reads = _user_reads(client)
    assert status == 200 and len(reads) == 2


def test_a_row_naming_another_user_signs_in_the_sessions_own_user(client):
    # given: the column disagrees with the signed session data (never written so; a
    # hand-edited row): the data decides, as in Django
    user, other = UserFactory(), UserFactory()
    key = _signed_in(client, user)
    UserSession.objects.filter(session_key=key).update(user=other)
    with CaptureQueriesContext(connection):
        page = client.get(reverse(PAGE))
    assert page.status_code == 200
    assert page.wsgi_request.user.pk == user.pk


def test_a_deactivated_user_is_signed_out(client):
    user = UserFactory()
    _signed_in(client, user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    page = client.get(reverse(PAGE))
    assert page.status_code == 302 and not page.wsgi_request.user.is_authenticated


def test_a_changed_password_signs_out_other_sessions(client):
    user = UserFactory()
    key = _signed_in(client, user)
    user.set_password("a new long passphrase 42")
    user.save()
    page = client.get(reverse(PAGE))
    assert page.status_code == 302 and not page.wsgi_request.user.is_authenticated
    assert not Session.objects.filter(session_key=key).exists()


def test_a_deleted_user_is_signed_out(client):
    user = UserFactory()
    _signed_in(client, user)
    user.delete()
    page = client.get(reverse(PAGE))
    assert page.status_code == 302 and not page.wsgi_request.user.is_authenticated


def test_signing_out_and_in_as_someone_else_moves_the_column(client):
    first, second = UserFactory(), UserFactory()
    _signed_in(client, first)
    client.logout()
    key = _signed_in(client, second)
    assert UserSession.objects.get(session_key=key).user_id == second.pk
    assert client.get(reverse(PAGE)).wsgi_request.user.pk == second.pk


def test_an_anonymous_visitor_has_no_user_and_no_user_query():
    status, reads = _user_reads(Client())
    assert status == 302 and reads == []


def test_a_session_made_by_its_factory_signs_its_user_in():
    from django.conf import settings

    from tests.factories.communities import UserSessionFactory

    session = UserSessionFactory()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    status, reads = _user_reads(client)
    assert status == 200 and len(reads) == 1
