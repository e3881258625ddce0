"""Roll-ups of the metric components (insights.models.rollups): folded in by a beat task
(fold), rebuilt from the responses by a command (rebuild), read together with the live
tail of responses not yet folded (read), and kept equal to the responses when a folded
response changes (dirty). config/celery.py autodiscovers this package's tasks."""
