"""Settings of one area, read from the environment; config/settings.py takes every
upper-case name from here and adds BEAT's entries to the Celery beat schedule.

Inbound mail (feedback.inbound): customers' replies to a case and bounces/complaints,
read from one mailbox over IMAP.
"""

import environ

env = environ.Env()

# The mailbox replies and bounces arrive in, e.g. imaps://user:pass@host:993/INBOX (or
# imap+ssl://, the same)
# (imap:// for plain IMAP on a trusted network). Empty: nothing is polled.
INBOUND_EMAIL_URL = env.str("INBOUND_EMAIL_URL", default="")
# For imaps:// (or imap+ssl://) to a server whose certificate a private CA signed (a
# self-hosted Dovecot): a PEM file of the CA(s) to trust instead of the system's. The
# certificate and its host name are always verified; there is no setting to skip that.
INBOUND_EMAIL_CAFILE = env.str("INBOUND_EMAIL_CAFILE", default="")
# The domain of the per-case reply address reply+<token>@<domain>; empty: emails carry no
# per-case Reply-To (the reply link page still works).
INBOUND_REPLY_DOMAIN = env.str("INBOUND_REPLY_DOMAIN", default="")
# How long a reply address or reply link stays valid after the email was written.
INBOUND_REPLY_MAX_AGE_DAYS = env.int("INBOUND_REPLY_MAX_AGE_DAYS", default=90)
# How often the beat polls the mailbox.
INBOUND_POLL_SECONDS = env.float("INBOUND_POLL_SECONDS", default=60.0)
# A message larger than this is not downloaded (it is flagged seen and counted).
INBOUND_MAX_MESSAGE_BYTES = env.int("INBOUND_MAX_MESSAGE_BYTES", default=2_000_000)
# The reply text kept on the case (longer replies are cut, and the cut is noted).
INBOUND_MAX_REPLY_CHARS = env.int("INBOUND_MAX_REPLY_CHARS", default=10_000)
# Messages read per poll; the rest wait for the next one.
INBOUND_POLL_BATCH = env.int("INBOUND_POLL_BATCH", default=200)
# Seconds an IMAP connection may wait on the server before the poll gives up.
INBOUND_IMAP_TIMEOUT = env.float("INBOUND_IMAP_TIMEOUT", default=30.0)
# Replies through the reply link page, per visitor address per hour.
INBOUND_LINK_REPLIES_PER_HOUR = env.int("INBOUND_LINK_REPLIES_PER_HOUR", default=10)

BEAT: dict = {
    "inbound-poll": {
        "task": "feedback.inbound.tasks.inbound_poll_task",
        "schedule": INBOUND_POLL_SECONDS,
    },
}
