"""Reward images, served by the app from the default storage (a self-hosted site has no
separate media server, and whitenoise serves static files only).

Only names the catalogue itself writes are served (rewards/<organisation id>/<reward>-<key>
.<png|jpg|webp|gif>): anything else, any other folder and any path trick answers 404. The
key changes with every upload, so a name's content never changes and may be cached for a
year. Images are the catalogue's pictures, which members see on the portal and in emails;
they hold nothing secret.
"""

from __future__ import annotations

import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from rewards.services.catalogue import IMAGE_CONTENT_TYPES

_NAME = re.compile(r"^rewards/\d+/[A-Za-z0-9_-]{1,100}\.(png|jpg|webp|gif)$")
ONE_YEAR = 365 * 24 * 3600


@require_safe
def reward_image(request: HttpRequest, name: str) -> FileResponse:
    match = _NAME.match(f"rewards/{name}")
    if match is None:
        raise Http404
    stored = match.group(0)
    try:
        handle = default_storage.open(stored, "rb")
    except (FileNotFoundError, IsADirectoryError, PermissionError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=IMAGE_CONTENT_TYPES[match.group(1)])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    # Shown in <img>, never opened as a document: no script can run from it.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
