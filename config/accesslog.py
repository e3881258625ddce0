"""gunicorn's access log, keeping nothing that could tie an answer to the person who gave it.

On the routes respondents and kiosks use — survey pages, email links, unsubscribe links,
kiosks, community pages with their polls and confirmation links — a log line keeps the
method, the route with its tokens replaced by "…", the status, the size and the duration,
and the time only to the hour: no client address, no user agent, no referrer, no query
string. Anonymous answers keep only their hour in the database too (README, "Anonymity"),
so the log cannot be joined to them by the second. Staff, API and account routes are logged
in full. Used by config/gunicorn.py.
"""

from __future__ import annotations

import re
import time
from typing import Any

from gunicorn.glogging import Logger

# Path segments that carry a token naming a person or a device.
_TOKEN = re.compile(r"^/(i|u|k)/[^/]+|^(/c/[^/]+/[^/]+/(?:confirm|invitation))/[^/]+")
_RESPONDENT = re.compile(r"^/(s|i|u|k|c)/")


def _redacted_path(path: str) -> str:
    def token(match: re.Match) -> str:
        head = f"/{match.group(1)}" if match.group(1) else match.group(2)
        return f"{head}/…"

    return _TOKEN.sub(token, path)


class PrivateAccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("PATH_INFO", "")
        if not _RESPONDENT.match(path):
            return atoms
        redacted = _redacted_path(path)
        hour = time.strftime("[%d/%b/%Y:%H:00:00 %z]", time.localtime())
        atoms.update(
            {
                "h": "-",
                "a": "-",
                "f": "-",
                "u": "-",
                "q": "",
                "t": hour,
                "U": redacted,
                "r": f"{environ.get('REQUEST_METHOD')} {redacted} {environ.get('SERVER_PROTOCOL')}",
            }
        )
        # Header atoms ({name}i / {name}o) would bring the address and agent back.
        for key in [k for k in atoms if k.startswith("{")]:
            atoms[key] = "-"
        return atoms
