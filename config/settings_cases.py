"""Settings of one area, read from the environment; config/settings.py takes every
upper-case name from here and adds BEAT's entries to the Celery beat schedule."""

import environ

env = environ.Env()

BEAT: dict = {}
