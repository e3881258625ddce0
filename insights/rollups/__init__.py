"""Roll-ups of the metric components (insights.models.rollups): folded in by a beat task
(fold), rebuilt from the responses by a command (rebuild), read together with the live
tail of responses not yet folded (read), and kept equal to the responses when a folded
response changes (dirty)."""

# celery.py autodiscovers only each app's tasks.py; the fold task lives in this package,
# which the app's models import when Django starts, so registering it here reaches the
# worker and the beat alike.
from insights.rollups import tasks  # noqa: E402, F401
