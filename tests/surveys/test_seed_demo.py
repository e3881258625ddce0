import pytest
from django.core.management import call_command

from feedback.models import Case
from surveys.models import Response

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_covers_four_languages_and_detractors():
    call_command("seed_demo", responses=40, stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", responses=40, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Response.objects.count() == 40
    assert set(Response.objects.values_list("language", flat=True)) == {"en", "th", "he", "ja"}
    assert Case.objects.exists()
