"""Django's session rows, with the signed-in user's id beside the encoded data.

Django's database session engine keeps the user's id inside `session_data`, so every
signed-in request ran two queries before its view: the session, then the user. With the id
in a column the session store reads both in one (config.sessions). The rows stay in
Django's own table (`django_session`, one nullable column added by migration
communities 0016), so `django.contrib.sessions.models.Session` still sees every session;
a row written without the column (by that model, or before the migration) simply takes
the two-query path until it is next saved.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class UserSession(AbstractBaseSession):
    # No constraint: the table is Django's, and a session outliving its user finds no
    # user on the join, which signs it out as a missing user does.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    class Meta:
        db_table = "django_session"
        managed = False
        verbose_name = "session"

    @classmethod
    def get_session_store_class(cls):
        from config.sessions import SessionStore

        return SessionStore
