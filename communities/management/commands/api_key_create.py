"""`manage.py api_key_create --org <slug> --name <name> --scopes <area>:<read|write> …`:
a new API key for an organisation, as its staff API keys page makes one.

The key alone goes to standard output, once (only its hash is kept), so a script can take
it: `KEY=$(python manage.py api_key_create …)`. What was made is said on standard error.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from communities.models import Organisation
from communities.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create an API key for an organisation and print it once. Scopes are "
        "<area>:read or <area>:write (write includes read) for the areas surveys, "
        "responses, members, rewards, cases, results and webhooks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. Helpdesk.")
        parser.add_argument(
            "--scopes",
            required=True,
            nargs="+",
            help="e.g. --scopes surveys:read members:write (commas work too).",
        )

    def handle(self, *args, org: str, name: str, scopes: list[str], **options) -> None:
        organisation = Organisation.objects.filter(slug=org).first()
        if organisation is None:
            raise CommandError(f"No organisation has the slug {org!r}.")
        wanted = [scope for given in scopes for scope in given.split(",") if scope.strip()]
        try:
            token, key = api_token_create(
                organisation=organisation, name=name, scopes=[s.strip() for s in wanted]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stderr.write(
            f"API key {token.name!r} ({token.prefix}…) for {organisation.name}, scopes: "
            f"{', '.join(token.scopes)}. It is shown this once:"
        )
        self.stdout.write(key)
