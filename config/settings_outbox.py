"""Settings of one area, read from the environment; config/settings.py takes every
upper-case name from here and adds BEAT's entries to the Celery beat schedule.

The email outbox (communities.outbox). How its times fit together — a send that dies is
recovered by the sweep, not by the broker:

- a worker killed mid-send leaves its rows "sending"; they are taken over once their claim
  is older than OUTBOX_SENDING_STALE_SECONDS, by the next sweep (every
  OUTBOX_SWEEP_SECONDS), so a dead worker's emails go out at most
  OUTBOX_SENDING_STALE_SECONDS + OUTBOX_SWEEP_SECONDS late;
- with Redis the killed worker's task itself comes back only after the broker's
  visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"], an hour):
  by then the sweep has long sent its rows and the redelivered task finds nothing to do;
- a batch holds its claim while it sends, so a sender stops taking new messages from its
  claimed rows once the claim is half as old as OUTBOX_SENDING_STALE_SECONDS and hands the
  rest back: no live sender's rows are ever taken over (which would send them twice).
"""

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

# A claimed row whose sender has not finished after this long is taken to be abandoned
# (its worker died) and is sent again. Must comfortably exceed one SMTP conversation.
OUTBOX_SENDING_STALE_SECONDS = env.float("OUTBOX_SENDING_STALE_SECONDS", default=120.0)
# How often beat sweeps the outbox for rows never enqueued (broker down at commit) or
# abandoned by a dead worker.
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=30.0)
# Rows one send task claims and sends over one SMTP connection: a burst drains in
# batches rather than one connection per email.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=100)
# A send task, its own rows sent, goes on claiming batches of rows waiting for their first
# attempt over the same connection, for at most this long: a burst drains in one task
# rather than paying a connection, a marker and a task per batch. Rows it leaves still
# have their own tasks (and the sweep).
OUTBOX_DRAIN_MAX_SECONDS = env.float("OUTBOX_DRAIN_MAX_SECONDS", default=60.0)
# The domain of the Message-ID each outbox row is written with (the inbound reader finds
# a bounce's row by it); empty: the domain of DEFAULT_FROM_EMAIL.
OUTBOX_MESSAGE_ID_DOMAIN = env.str("OUTBOX_MESSAGE_ID_DOMAIN", default="")

# Django's EMAIL_TIMEOUT (10 s) bounds one SMTP command; a claim shorter than a few of
# them could be taken over while its sender is still waiting on the server.
if OUTBOX_SENDING_STALE_SECONDS < 30:
    raise ImproperlyConfigured("OUTBOX_SENDING_STALE_SECONDS must be at least 30")
if OUTBOX_SWEEP_SECONDS <= 0 or OUTBOX_BATCH_SIZE < 1 or OUTBOX_DRAIN_MAX_SECONDS < 0:
    raise ImproperlyConfigured(
        "OUTBOX_SWEEP_SECONDS and OUTBOX_BATCH_SIZE must be positive, "
        "OUTBOX_DRAIN_MAX_SECONDS not negative"
    )

BEAT: dict = {
    "outbox-redrive": {
        "task": "communities.outbox.tasks.outbox_redrive_task",
        "schedule": OUTBOX_SWEEP_SECONDS,
    },
}
