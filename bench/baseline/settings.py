"""Chorus's own settings plus the baseline app and URLs.

Every Chorus figure (bare view, minimal submit, survey submit) is served with this
module so that all of them share one process setup: same middleware, same database
options, same environment-driven configuration.
"""

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline"]  # noqa: F405
ROOT_URLCONF = "bench.baseline.urls"
