"""Answer keys from respondent pages are stored as a keyed hash (issue 12).

A visitor's year-long cookie held the very key its response was stored under, so anyone
with the browser and the database could find the answer. From now on a respondent page
stores HMAC(SECRET_KEY, key) (surveys.services.responses.answer_key_stored); this hashes
the keys stored before, so cookies already set still find their answers (and a page still
open sends a key that is found), while the database no longer holds any cookie's value.

Only the keys those pages gave out are touched (32 lowercase hex digits); a kiosk's keys
are its own, replayed raw from its queue, and stay as they are. Not reversible: the raw
keys are gone, which is the point.
"""

from django.db import migrations
from django.utils.crypto import salted_hmac

# The salt of surveys.services.responses.ANSWER_KEY_SALT, frozen here.
SALT = "chorus.surveys.respondent-answer-key"
PAGE_KEY = r"^[0-9a-f]{32}$"
BATCH = 1000


def _hashed(key: str) -> str:
    return salted_hmac(SALT, key, algorithm="sha256").hexdigest()


def _rehash(model, rows) -> None:
    batch = []
    for row in rows.only("pk", "idempotency_key").iterator(chunk_size=BATCH):
        row.idempotency_key = _hashed(row.idempotency_key)
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_update(batch, ["idempotency_key"])
            batch = []
    if batch:
        model.objects.bulk_update(batch, ["idempotency_key"])


def hash_page_keys(apps, schema_editor):
    Response = apps.get_model("surveys", "Response")
    PooledAnswer = apps.get_model("surveys", "PooledAnswer")
    _rehash(
        Response,
        Response.objects.filter(idempotency_key__regex=PAGE_KEY).exclude(channel__kind="kiosk"),
    )
    _rehash(PooledAnswer, PooledAnswer.objects.filter(idempotency_key__regex=PAGE_KEY))


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0004_anonymous_pool"),
    ]

    operations = [
        migrations.RunPython(hash_page_keys, migrations.RunPython.noop, elidable=False),
    ]
