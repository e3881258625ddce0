"""Chorus's own settings plus the baseline app and URLs.

Every Chorus figure (bare view, minimal submit, survey submit, respondent page) is served
with this module so that all of them share one process setup: same middleware, same
database options, same environment-driven configuration.
"""

import os

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline"]  # noqa: F405
ROOT_URLCONF = "bench.baseline.urls"

# bench/page.py collects the static files (hashed and compressed, as in production) into
# its own run directory, never into the project's staticfiles/.
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
