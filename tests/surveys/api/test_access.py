"""Who may call the surveys and responses API: the walk tables of tests/walks/surveys_api.py
as API keys of each scope and as staff of each role, and another organisation's ids."""

import pytest
from django.test import Client
from django.urls import resolve, reverse

from communities.choices import Role
from surveys.choices import SurveyStatus
from surveys.models import Survey
from tests.factories.communities import StaffRoleFactory
from tests.factories.surveys import SurveyFactory
from tests.walks import surveys_api

pytestmark = pytest.mark.django_db

# The surveys routes that were there before this table, walked here by keys as well.
READS = {
    "api:survey_list": None,
    "api:survey_detail": lambda org: SurveyFactory(organisation=org),
    "api:survey_response_list": lambda org: SurveyFactory(organisation=org),
    **{name: make for name, (_roles, make) in surveys_api.API_ACCESS.items()},
}
WRITES = {key: (make, body) for key, (_roles, make, body) in surveys_api.API_WRITE_ACCESS.items()}
DELETES = {
    "api:survey_detail": lambda org: SurveyFactory(organisation=org, status=SurveyStatus.DRAFT),
    **{
        name: surveys_api.API_WRITE_ACCESS["patch", name][1]
        for name in ("api:survey_question_detail", "api:survey_choice_detail")
    },
}


def _url(name, organisation, make):
    made = make(organisation) if make else ()
    objects = made if isinstance(made, tuple) else (made,)
    return reverse(name, args=[organisation.slug, *(o.pk for o in objects)])


def _area(url: str) -> str:
    return resolve(url).func.view_class.api_area


@pytest.mark.parametrize("name", list(READS))
def test_a_key_reads_with_its_areas_read_scope_only(key_client, organisation, name):
    url = _url(name, organisation, READS[name])
    area = _area(url)
    other = "responses" if area == "surveys" else "surveys"

    allowed = key_client(organisation, f"{area}:read").get(url)
    refused = key_client(organisation, f"{other}:read", f"{other}:write").get(url)

    assert allowed.status_code == 200, allowed.json()
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"


@pytest.mark.parametrize("write", list(WRITES), ids=" ".join)
def test_a_key_writes_with_the_write_scope_and_not_with_read(key_client, organisation, write):
    method, name = write
    make, body = WRITES[write]
    url = _url(name, organisation, make)
    area = _area(url)

    refused = getattr(key_client(organisation, f"{area}:read"), method)(url, body, "json")
    allowed = getattr(key_client(organisation, f"{area}:write"), method)(url, body, "json")

    assert refused.status_code == 403, refused.json()
    assert allowed.status_code in (200, 201), allowed.json()


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.ANALYST, Role.AGENT])
@pytest.mark.parametrize("name", list(DELETES))
def test_deleting_is_for_owners_admins_and_write_keys(key_client, organisation, role, name):
    # given
    client = Client()
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    read_key = key_client(organisation, "surveys:read")
    write_key = key_client(organisation, "surveys:write")

    # when / then
    refused = read_key.delete(_url(name, organisation, DELETES[name]))
    assert refused.status_code == 403
    assert write_key.delete(_url(name, organisation, DELETES[name])).status_code == 204
    staff = client.delete(_url(name, organisation, DELETES[name]))
    assert staff.status_code == (204 if role in surveys_api.MANAGE else 403)


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AGENT])
@pytest.mark.parametrize("write", list(WRITES), ids=" ".join)
def test_analysts_and_agents_write_nothing(organisation, role, write):
    method, name = write
    make, body = WRITES[write]
    client = Client()
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    url = _url(name, organisation, make)
    surveys_before = Survey.objects.count()

    answer = getattr(client, method)(url, body, content_type="application/json")

    assert answer.status_code == 403
    assert Survey.objects.count() == surveys_before


@pytest.mark.parametrize("name", list(READS))
def test_analysts_read_and_agents_do_not(organisation, name):
    for role, expected in ((Role.ANALYST, 200), (Role.AGENT, 403)):
        client = Client()
        client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
        assert client.get(_url(name, organisation, READS[name])).status_code == expected


@pytest.mark.parametrize("name", [n for n, make in READS.items() if make])
def test_another_organisations_ids_under_mine_are_404(
    api, staff_client, organisation, other_organisation, name
):
    # given: the route's objects made in the other organisation
    made = READS[name](other_organisation)
    objects = made if isinstance(made, tuple) else (made,)
    url = reverse(name, args=[organisation.slug, *(o.pk for o in objects)])

    # when / then: keys and staff alike, reads and writes alike
    for caller in (api, staff_client):
        assert caller.get(url).status_code == 404, url
        patched = caller.patch(url, {"required": False}, content_type="application/json")
        assert patched.status_code in (404, 405), url
    assert api.delete(url).status_code in (404, 405)


@pytest.mark.parametrize("name", list(READS))
def test_another_organisations_urls_are_404_for_my_key_and_me(
    api, staff_client, organisation, other_organisation, name
):
    url = _url(name, other_organisation, READS[name])

    assert api.get(url).status_code == 404
    assert staff_client.get(url).status_code == 404
