"""The dashboard's seeded tests (tests/insights/test_dashboard.py, every figure computed
independently from the seed) run again with the seed folded into the roll-ups: wholly,
half (the rest read live as the tail), and wholly with some survey-days marked dirty (read
live until refolded). Each figure must come out the same."""

from __future__ import annotations

import pytest

from insights.models import RollupState
from insights.rollups.dirty import rollups_mark_dirty
from insights.rollups.fold import rollups_fold, rollups_fold_all
from surveys.models import Response
from tests.insights.seed import seed
from tests.insights.test_dashboard import *  # noqa: F403 (the same tests, folded)

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["folded", "half-folded", "folded-with-dirty-days"])
def seeded(request, organisation, community):
    surveys, stores = seed(organisation, community)
    if request.param == "half-folded":
        rollups_fold(batch=Response.objects.count() // 2)
        state = RollupState.objects.get(pk=1)
        assert 0 < state.watermark < Response.objects.order_by("pk").last().pk
    else:
        rollups_fold_all()
    if request.param == "folded-with-dirty-days":
        for response in Response.objects.order_by("pk")[::7]:
            rollups_mark_dirty(
                organisation_id=organisation.pk,
                survey_id=response.survey_id,
                day=response.submitted_on,
            )
        assert RollupState.objects.get(pk=1).dirty
    return surveys, stores
