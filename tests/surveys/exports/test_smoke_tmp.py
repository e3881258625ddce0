import pytest
pytestmark = pytest.mark.django_db
from surveys.exports.params import ExportParams
from surveys.exports.selectors import responses_export_plan
from surveys.exports.files import csv_pieces

def test_smoke(organisation, seeded, django_assert_max_num_queries):
    plan = responses_export_plan(organisation=organisation, survey=seeded.survey, params=ExportParams())
    print(str(plan.responses.query))
    body = "".join(csv_pieces(plan=plan))
    print(body)
    assert 0
