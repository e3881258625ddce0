"""Rebuild the roll-ups from the responses (all organisations, or one by slug)."""

from django.core.management.base import BaseCommand, CommandError

from communities.models import Organisation
from insights.rollups.fold import rollups_fold_all, rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the insights roll-ups exactly from the responses."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", help="the organisation's slug (default: all)")

    def handle(self, *args, organisation=None, **options):
        target = None
        if organisation:
            target = Organisation.objects.filter(slug=organisation).first()
            if target is None:
                raise CommandError(f"No organisation with the slug {organisation!r}.")
        written = rollups_rebuild(organisation=target)
        # Then catch up with whatever arrived past the watermark.
        folded = rollups_fold_all()
        self.stdout.write(f"{written} roll-up rows rebuilt; {folded} new responses folded.")
