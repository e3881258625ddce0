"""Security headers on every response Chorus serves: pages, JSON, files and error pages.

- `Content-Security-Policy`, built by django-csp from `CONTENT_SECURITY_POLICY` (the CSP
  block in config/settings.py): scripts and styles come only from our own static files, so
  an injected `<script>` or `onclick=` does not run. A page that needs a value in CSS (a
  brand colour) puts it in a `<style nonce="{{ request.csp_nonce }}">` block; reading the
  nonce is what adds it to that response's policy.
- `Permissions-Policy` from `PERMISSIONS_POLICY`: the browser features no page uses
  (camera, microphone, location, payments, USB…) are switched off for the page and for
  anything it might embed, so a script that got in could not ask for them either.

One middleware, so the two headers are written in the same place and no response gets one
without the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

PERMISSIONS_POLICY_HEADER = "Permissions-Policy"


def permissions_policy(features: Mapping[str, Sequence[str]]) -> str:
    """The header's value: `camera=(), fullscreen=(self)` from {"camera": [], "fullscreen":
    ["self"]}. "self" and "*" are keywords; anything else is an origin and is quoted."""

    def allow(origin: str) -> str:
        return origin if origin in ("self", "*") else f'"{origin}"'

    return ", ".join(
        f"{feature}=({' '.join(allow(origin) for origin in allowed)})"
        for feature, allowed in features.items()
    )


class SecurityHeadersMiddleware(CSPMiddleware):
    """django-csp's middleware (the nonce on `request.csp_nonce`, the policy and its
    per-view decorators), plus the Permissions-Policy header."""

    def __init__(self, get_response) -> None:
        super().__init__(get_response)
        self.permissions_policy = permissions_policy(getattr(settings, "PERMISSIONS_POLICY", {}))

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().process_response(request, response)
        if self.permissions_policy and PERMISSIONS_POLICY_HEADER not in response:
            response[PERMISSIONS_POLICY_HEADER] = self.permissions_policy
        return response
