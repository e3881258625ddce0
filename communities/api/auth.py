"""API keys for other systems (a helpdesk, a shop): `Authorization: Bearer <key>`."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from communities.models import ApiToken
from communities.models.organisations import API_AREAS
from communities.services.organisations import api_token_authenticate
from config.ratelimit import client_ip, rate_limited

# Unknown keys one client address may try a minute before it is answered 429: an
# integration with a mistyped key notices at once, a guesser gets nowhere.
API_KEY_FAILURES_PER_MINUTE = 20


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <key>'.")
        token = api_token_authenticate(key=header[1].decode(errors="replace"))
        if token is None:
            # Guessing keys from one address is slowed to a trickle; a real key still works.
            if rate_limited(
                scope="api-key-failure",
                key=client_ip(request),
                limit=API_KEY_FAILURES_PER_MINUTE,
                window=60,
            ):
                raise exceptions.Throttled(wait=60, detail="Too many unknown API keys; wait.")
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return (None, token)

    def authenticate_header(self, request) -> str:
        return self.keyword


class OrganisationApiToken(permissions.BasePermission):
    """A key works only under its own organisation's URL; elsewhere the URL is not found."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <key>'.")
        if token.organisation.slug != view.kwargs.get("org"):
            raise Http404
        view.organisation = token.organisation
        return True


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "communities.api.auth.ApiTokenAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        areas = ", ".join(f"`{area}`" for area in API_AREAS)
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An organisation API key, made by an owner or admin on the API keys page, "
                "with the scopes chosen there: `<area>:read` for GET and `<area>:write` (which "
                f"includes read) for the other methods, for the areas {areas}. A call outside "
                "the key's scopes answers 403 with `required_scope`; each operation names the "
                "scope it needs."
            ),
        }
