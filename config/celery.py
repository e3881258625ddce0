import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("chorus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The outbox is a package inside the communities app, with tasks of its own.
app.autodiscover_tasks(["communities.outbox", "communities.webhooks", "communities.api"])
