import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("chorus")
app.config_from_object("django.conf:settings", namespace="CELERY")
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
