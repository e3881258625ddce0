"""Every staff page and API endpoint enforces who may use it, for every role.

Analysts read results and change nothing; agents work cases only; owners and admins
manage. The table below says which roles may use each staff URL; the walk visits every
URL in the staff map as every role, so a new URL without an entry fails here.
"""

import pytest
from django.test import Client
from django.urls import reverse

from communities.choices import Role
from tests.communities.test_staff_scoping import (
    OBJECT_FOR,
    POST_ONLY,
    staff_url,
    staff_url_names,
    visit,
)
from tests.factories.communities import (
    CommunityFactory,
    MemberFactory,
    SegmentFactory,
    StaffRoleFactory,
)
from tests.factories.surveys import SurveyEventFactory, SurveyFactory
from tests.walks import all as area_walks

pytestmark = pytest.mark.django_db

MANAGE = frozenset({Role.OWNER, Role.ADMIN})
READ = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})
CASES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})
OWNER = frozenset({Role.OWNER})

ACCESS = {
    # surveys: analysts read results and previews; building and sending is managing
    "survey_list": READ,
    "survey_create": MANAGE,
    "survey_results": READ,
    "survey_edit": MANAGE,
    "survey_preview": READ,
    "survey_duplicate": MANAGE,
    "survey_publish": MANAGE,
    "survey_close": MANAGE,
    "survey_reorder": MANAGE,
    "question_add": MANAGE,
    "question_edit": MANAGE,
    "question_delete": MANAGE,
    "question_restore": MANAGE,
    "question_move": MANAGE,
    "survey_distribute": MANAGE,
    "batch_detail": MANAGE,
    "kiosk_revoke": MANAGE,
    # cases: the agents' work
    "case_list": CASES,
    "case_detail": CASES,
    # the organisation's settings
    "api_tokens": MANAGE,
    "api_token_revoke": MANAGE,
    "team": MANAGE,
    "staff_invitation_revoke": MANAGE,
    "team_role_change": MANAGE,
    "team_remove": MANAGE,
    # communities: analysts read them and their members; changing them is managing
    "community_list": READ,
    "community_create": MANAGE,
    "community_detail": READ,
    "community_edit": MANAGE,
    "attribute_list": MANAGE,
    "attribute_edit": MANAGE,
    "attribute_delete": MANAGE,
    "member_list": READ,
    "member_detail": READ,
    "member_add": MANAGE,
    "member_invite": MANAGE,
    "member_import_create": MANAGE,
    "member_import_detail": MANAGE,
    "member_import_confirm": MANAGE,
    "member_import_errors": MANAGE,
    "segment_list": READ,
    "segment_count": READ,
    "segment_create": MANAGE,
    "segment_edit": MANAGE,
    "segment_delete": MANAGE,
    # the organisation's settings and its stores: analysts read stores and their kiosks
    "settings": MANAGE,
    "location_list": READ,
    "location_create": MANAGE,
    "location_detail": READ,
    "location_archive": MANAGE,
    "location_unarchive": MANAGE,
    "location_kiosks": READ,
    # the audit log: owners only (it records what admins did)
    "audit_log": OWNER,
    "audit_export": OWNER,
}

ACCESS.update(area_walks.ACCESS)


def _survey(org):
    return SurveyFactory(organisation=org)


def _community(org):
    return CommunityFactory(organisation=org)


# Staff API endpoints (session-authenticated) and who may call them: the roles, and how to
# make the object of the caller's organisation a route's id names (None: no id).
API_ACCESS = {
    "api:survey_list": (READ, None),
    "api:survey_detail": (READ, _survey),
    "api:survey_response_list": (READ, _survey),
    "api:community_list": (READ, None),
    "api:community_detail": (READ, _community),
    "api:community_member_list": (READ, _community),
    "api:community_segment_list": (READ, _community),
    "api:member_detail": (READ, lambda org: MemberFactory(community__organisation=org)),
    "api:segment_member_list": (READ, lambda org: SegmentFactory(community__organisation=org)),
    "api:event_detail": (READ, lambda org: SurveyEventFactory(organisation=org)),
}
# Writes through the staff API: (method, route) -> roles, id maker, a valid body.
API_WRITE_ACCESS = {
    ("post", "api:community_member_list"): (
        MANAGE,
        _community,
        {"email": "new@example.com", "consent": True},
    ),
    ("post", "api:community_member_invite"): (MANAGE, _community, {"email": "new@example.com"}),
    ("patch", "api:member_detail"): (
        MANAGE,
        lambda org: MemberFactory(community__organisation=org),
        {"name": "Kim"},
    ),
}

API_ACCESS.update(area_walks.API_ACCESS)
API_WRITE_ACCESS.update(area_walks.API_WRITE_ACCESS)


def _api_args(organisation, object_for) -> list:
    """A route's args: the organisation's slug, then the id the maker's object gives, or the
    ids of the tuple it returns for a nested route (…/surveys/<pk>/questions/<qid>/)."""
    made = object_for(organisation) if object_for else ()
    return [organisation.slug, *(o.pk for o in (made if isinstance(made, tuple) else (made,)))]


def test_every_staff_url_says_which_roles_may_use_it():
    missing = sorted(set(staff_url_names()) - set(ACCESS))
    stale = sorted(set(ACCESS) - set(staff_url_names()))
    assert not missing, f"add these to ACCESS in tests/communities/test_roles.py: {missing}"
    assert not stale, f"these are no longer staff URLs: {stale}"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("name", staff_url_names())
def test_each_role_may_use_exactly_the_staff_pages_the_table_allows(
    client, organisation, name, role
):
    # given: a staff member with this role, and an object of their organisation
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    obj = OBJECT_FOR[name](organisation) if name in OBJECT_FOR else None

    # when
    page = visit(client, name, staff_url(name, organisation, obj))

    # then
    if role in ACCESS.get(name, ()):
        allowed = {302} if name in POST_ONLY else {200, 302}
        assert page.status_code in allowed, f"{role} should be able to use {name}"
    else:
        assert page.status_code == 403, f"{role} must not use {name}"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("name", list(API_ACCESS))
def test_each_role_may_call_exactly_the_staff_api_the_table_allows(organisation, name, role):
    roles, object_for = API_ACCESS[name]
    client = Client()
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)

    response = client.get(reverse(name, args=_api_args(organisation, object_for)))

    assert response.status_code == (200 if role in roles else 403)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("write", list(API_WRITE_ACCESS), ids=" ".join)
def test_each_role_may_write_through_the_staff_api_exactly_as_the_table_allows(
    organisation, write, role
):
    method, name = write
    roles, object_for, body = API_WRITE_ACCESS[write]
    client = Client()
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    url = reverse(name, args=_api_args(organisation, object_for))

    response = getattr(client, method)(url, body, content_type="application/json")

    # A POST that creates answers 201; one that acts on an object (approve) answers 200.
    assert response.status_code in ((200, 201) if role in roles else (403,)), response.content


def test_every_staff_api_route_says_which_roles_may_use_it():
    from config.api_router import api_routes

    routes = {f"api:{p.name}" for p in api_routes() if "<slug:org>" in str(p.pattern)}
    key_only = {"api:event_receive"}
    assert routes - key_only == set(API_ACCESS) | {name for _m, name in API_WRITE_ACCESS}


def test_an_analyst_sees_results_but_no_buttons_that_change_anything(client, organisation):
    # given
    survey = SurveyFactory(organisation=organisation)
    client.force_login(StaffRoleFactory(organisation=organisation, role=Role.ANALYST).user)

    # when
    listing = client.get(reverse("staff:survey_list", args=[organisation.slug])).content.decode()
    communities = client.get(
        reverse("staff:community_list", args=[organisation.slug])
    ).content.decode()

    # then
    assert survey.title_text in listing
    assert reverse("staff:survey_edit", args=[organisation.slug, survey.pk]) not in listing
    assert reverse("staff:survey_create", args=[organisation.slug]) not in listing
    assert reverse("staff:community_create", args=[organisation.slug]) not in communities
    assert reverse("staff:team", args=[organisation.slug]) not in listing
