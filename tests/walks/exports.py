"""Walk tables for tests/communities/test_roles.py and test_staff_scoping.py: response exports
(the export page, the streamed CSV, a prepared file's page, its progress and its download).

Owners, admins and analysts — the roles that read results — export; agents get 403 and
outsiders 404, as on the results page. A prepared file is made ready (written under
MEDIA_ROOT/exports/) so that its download answers 200 to a reader of its organisation.

ACCESS: staff page route name -> roles; OBJECT_FOR: route -> maker of the object its id
names; POST_ONLY: routes visited with POST.
"""

from communities.choices import Role
from tests.factories.surveys import ExportJobFactory, SurveyFactory

READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})


def _survey(org):
    return SurveyFactory(organisation=org)


def _job(org):
    return ExportJobFactory(survey__organisation=org)


def _ready_job(org):
    return ExportJobFactory(survey__organisation=org, ready=True)


ACCESS: dict = {
    "survey_export": READ,
    "survey_export_csv": READ,
    "export_job": READ,
    "export_job_status": READ,
    "export_job_download": READ,
}
OBJECT_FOR: dict = {
    "survey_export": _survey,
    "survey_export_csv": _survey,
    "export_job": _job,
    "export_job_status": _job,
    "export_job_download": _ready_job,
}
POST_ONLY: set = set()
API_ACCESS: dict = {}
API_WRITE_ACCESS: dict = {}
