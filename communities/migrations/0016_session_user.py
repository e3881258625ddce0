"""The signed-in user's id beside each session's data (communities.models.sessions).

The column is added to Django's own session table, so the sessions app's model and every
existing session are untouched; existing rows keep a NULL id until they are next saved.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0015_outbox_send_path"),
        ("sessions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="UserSession",
                    fields=[
                        (
                            "session_key",
                            models.CharField(
                                max_length=40,
                                primary_key=True,
                                serialize=False,
                                verbose_name="session key",
                            ),
                        ),
                        ("session_data", models.TextField(verbose_name="session data")),
                        (
                            "expire_date",
                            models.DateTimeField(db_index=True, verbose_name="expire date"),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "session",
                        "db_table": "django_session",
                        "managed": False,
                    },
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE django_session ADD COLUMN user_id bigint NULL",
                    "ALTER TABLE django_session DROP COLUMN user_id",
                ),
            ],
        ),
    ]
