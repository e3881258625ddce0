from django.db import models


class MinimalRow(models.Model):
    """The one row the minimal submit writes.

    The key is unique, like a Chorus response's idempotency key, so the floor cost
    includes checking one unique index and a duplicate would fail loudly.
    """

    key = models.CharField(max_length=64, unique=True)
    score = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key
