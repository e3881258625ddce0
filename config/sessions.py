"""Django's database sessions, read with a query compiled once per process.

Every signed-in request loads its session first; the ORM spent longer compiling that one
lookup than the database spent answering it. Same table, same rows, same expiry rule
(an expired session is no session) as django.contrib.sessions.backends.db.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.sql import PreparedQuery

_session = PreparedQuery(lambda key: Session.objects.filter(session_key=key), ("str",))


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        session = _session.first(self.session_key) if self.session_key else None
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session
