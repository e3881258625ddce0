"""The migrations in the repository describe the models exactly."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_models_have_no_changes_missing_from_migrations(capsys):
    # --check exits non-zero (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=1)
    assert "No changes detected" in capsys.readouterr().out
