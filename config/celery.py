import os
import sys

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("chorus")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fixup closes every database connection before and after each task unless
# this is set, so a worker opened a new connection for every task: on PostgreSQL a new
# server process, its caches cold and no statement prepared, which cost the database more
# CPU than most tasks themselves. Connections are renewed as a web request's are instead
# (worker_connections_renew).
app.conf.CELERY_DB_REUSE_MAX = sys.maxsize
app.autodiscover_tasks()
# Packages inside apps with tasks of their own (autodiscovery looks only at <app>.tasks).
app.autodiscover_tasks(
    [
        "communities.outbox",
        "communities.webhooks",
        "communities.api",
        "feedback.inbound",
        "insights.rollups",
    ]
)


@task_prerun.connect
@task_postrun.connect
def worker_connections_renew(sender=None, **kwargs) -> None:
    """Before and after each task a worker runs, what Django does around each request:
    close a database connection older than CONN_MAX_AGE (so CONN_MAX_AGE=0 is a new
    connection per task) or left unusable by an error; keep any other.

    Not for a task run eagerly: it runs in its caller (a web request, after its commit),
    whose connection is the caller's to manage.
    """
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
