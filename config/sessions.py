"""Django's database sessions, read with their user in one query compiled once per process.

Every signed-in request loads its session, then its user (django.contrib.auth.get_user).
Through the ORM each lookup cost more to compile than the database spent answering it,
and the two were two round trips. Here the session row carries the user's id
(communities.models.UserSession, in Django's own table), so one compiled query reads the
session and joins the user; AuthenticationMiddleware below hands that user to Django's own
get_user, which still runs every check it runs today: the backend in settings, the
backend's user_can_authenticate (is_active), and the session's auth hash. Same table, same
rows, same expiry rule (an expired session is no session) as
django.contrib.sessions.backends.db.
"""

from __future__ import annotations

from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.contrib.auth import middleware as auth_middleware
from django.contrib.sessions.backends import db
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from communities.managers import preloaded_user
from communities.models import User, UserSession
from config.sql import PreparedQuery

_session = PreparedQuery(
    lambda key: UserSession.objects.select_related("user").filter(session_key=key), ("str",)
)


class SessionStore(db.SessionStore):
    # The user read with the session (None when the row names none, or names one since
    # deleted): AuthenticationMiddleware passes it to Django's get_user.
    loaded_user: User | None = None

    @classmethod
    def get_model_class(cls) -> type[UserSession]:
        return UserSession

    def _get_session_from_db(self) -> UserSession | None:
        session = _session.first(self.session_key) if self.session_key else None
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        self.loaded_user = session.user
        return session

    def create_model_instance(self, data: dict) -> UserSession:
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data[SESSION_KEY])
        except (KeyError, TypeError, ValueError):
            session.user_id = None
        return session

    def user_loaded(self) -> User | None:
        """The user read with this request's session (loading it if it is not yet)."""
        self._get_session()
        return self.loaded_user


def _get_user(request: HttpRequest):
    if not hasattr(request, "_cached_user"):
        session = request.session
        user = session.user_loaded() if isinstance(session, SessionStore) else None
        # Django's get_user, unchanged; the user manager answers its get(pk=…) with the
        # user already read when the ids agree (communities.managers.UserManager.get).
        token = preloaded_user.set(user)
        try:
            request._cached_user = auth.get_user(request)
        finally:
            preloaded_user.reset(token)
    return request._cached_user


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with the request's user taken from the session's own query."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _get_user(request))
