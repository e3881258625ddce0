"""`manage.py api_key_create`: a key from the command line, printed once, with its scopes."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from communities.models import ApiToken
from communities.services import api_token_authenticate

pytestmark = pytest.mark.django_db


def test_api_key_create_prints_only_the_key_which_then_works(organisation) -> None:
    # given an organisation
    out, err = StringIO(), StringIO()

    # when a key is made on the command line with two scopes (commas work too)
    call_command(
        "api_key_create",
        "--org",
        organisation.slug,
        "--name",
        "Helpdesk",
        "--scopes",
        "surveys:read,responses:read",
        "members:write",
        stdout=out,
        stderr=err,
    )

    # then standard output is the key alone, and it authenticates as that organisation
    key = out.getvalue().strip()
    assert "\n" not in key
    token = api_token_authenticate(key=key)
    assert token is not None and token.organisation == organisation
    assert token.name == "Helpdesk"
    assert {"surveys:read", "responses:read", "members:write"} <= set(token.scopes)
    # and what was made is said beside it, naming the key by its prefix only
    assert token.prefix in err.getvalue() and key not in err.getvalue()


def test_api_key_create_refuses_an_unknown_organisation() -> None:
    # when the slug names no organisation
    with pytest.raises(CommandError, match="nowhere"):
        call_command("api_key_create", "--org", "nowhere", "--name", "X", "--scopes", "cases:read")

    # then no key exists
    assert not ApiToken.objects.exists()


def test_api_key_create_refuses_a_scope_that_does_not_exist(organisation) -> None:
    # when a scope names no area
    with pytest.raises(CommandError):
        call_command(
            "api_key_create", "--org", organisation.slug, "--name", "X", "--scopes", "pies:eat"
        )

    # then no key was made
    assert not ApiToken.objects.exists()
