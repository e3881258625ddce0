"""Staff pages are scoped to the organisations the user has a role in.

The tests walk every URL under /staff/<org>/ so a new page cannot escape the check.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from communities.choices import Role
from surveys.choices import QuestionType
from tests.factories.communities import (
    ApiTokenFactory,
    AttributeDefinitionFactory,
    CommunityFactory,
    LocationFactory,
    MemberFactory,
    MemberImportFactory,
    SegmentFactory,
    StaffInvitationFactory,
    StaffRoleFactory,
)
from tests.factories.feedback import CaseFactory
from tests.factories.surveys import (
    ChannelFactory,
    InvitationBatchFactory,
    QuestionFactory,
    SurveyFactory,
)
from tests.walks import all as area_walks

pytestmark = pytest.mark.django_db


# How to make an object of a given organisation for each staff URL that takes an id.
def _survey(org):
    return SurveyFactory(organisation=org)


def _question(org):
    return QuestionFactory(survey__organisation=org, type=QuestionType.STAR)


OBJECT_FOR = {
    "survey_results": _survey,
    "survey_edit": _survey,
    "survey_preview": _survey,
    "survey_duplicate": _survey,
    "survey_publish": _survey,
    "survey_close": _survey,
    "survey_reorder": _survey,
    "question_add": _survey,
    "question_edit": _question,
    "question_delete": _question,
    "question_restore": _question,
    "question_move": _question,
    "survey_distribute": _survey,
    "batch_detail": lambda org: InvitationBatchFactory(survey__organisation=org),
    "kiosk_revoke": lambda org: ChannelFactory(
        survey__organisation=org, kind="kiosk", device_token=f"device-{org.slug}"
    ),
    "api_token_revoke": lambda org: ApiTokenFactory(organisation=org),
    "case_detail": lambda org: CaseFactory(response__survey__organisation=org),
    "staff_invitation_revoke": lambda org: StaffInvitationFactory(organisation=org),
    "team_role_change": lambda org: StaffRoleFactory(organisation=org, role=Role.ANALYST),
    "team_remove": lambda org: StaffRoleFactory(organisation=org, role=Role.ANALYST),
    "community_detail": lambda org: CommunityFactory(organisation=org),
    "community_edit": lambda org: CommunityFactory(organisation=org),
    "attribute_list": lambda org: CommunityFactory(organisation=org),
    "attribute_edit": lambda org: AttributeDefinitionFactory(community__organisation=org),
    "attribute_delete": lambda org: AttributeDefinitionFactory(community__organisation=org),
    "member_list": lambda org: CommunityFactory(organisation=org),
    "member_add": lambda org: CommunityFactory(organisation=org),
    "member_invite": lambda org: CommunityFactory(organisation=org),
    "member_import_create": lambda org: CommunityFactory(organisation=org),
    "member_detail": lambda org: MemberFactory(community__organisation=org),
    "member_import_detail": lambda org: MemberImportFactory(community__organisation=org),
    "member_import_confirm": lambda org: MemberImportFactory(community__organisation=org),
    "member_import_errors": lambda org: MemberImportFactory(community__organisation=org),
    "segment_list": lambda org: CommunityFactory(organisation=org),
    "segment_create": lambda org: CommunityFactory(organisation=org),
    "segment_count": lambda org: CommunityFactory(organisation=org),
    "segment_edit": lambda org: SegmentFactory(community__organisation=org),
    "segment_delete": lambda org: SegmentFactory(community__organisation=org),
    "location_detail": lambda org: LocationFactory(organisation=org),
    "location_archive": lambda org: LocationFactory(organisation=org),
    "location_unarchive": lambda org: LocationFactory(organisation=org),
    "location_kiosks": lambda org: LocationFactory(organisation=org),
}
# Buttons, not pages: they answer POST only (a GET is 405 once the organisation is known).
POST_ONLY = {
    "survey_duplicate",
    "survey_publish",
    "survey_close",
    "survey_reorder",
    "question_delete",
    "question_restore",
    "question_move",
    "kiosk_revoke",
    "api_token_revoke",
    "staff_invitation_revoke",
    "team_role_change",
    "team_remove",
    "member_import_confirm",
    "segment_delete",
    "location_archive",
    "location_unarchive",
}


OBJECT_FOR.update(area_walks.OBJECT_FOR)
POST_ONLY |= area_walks.POST_ONLY


def visit(client, name: str, url: str):
    return client.post(url) if name in POST_ONLY else client.get(url)


def staff_url_names() -> list[str]:
    resolver = next(
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and p.namespace == "staff"
    )
    names = []
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern), "nest staff URLs flat, so this walk sees them"
        names.append(pattern.name)
    return names


def staff_url(name: str, org, obj=None) -> str:
    args = [org.slug] + ([obj.pk] if obj is not None else [])
    return reverse(f"staff:{name}", args=args)


def test_every_staff_url_with_an_id_has_a_cross_tenant_case():
    for name in staff_url_names():
        url = reverse(
            f"staff:{name}", kwargs={"org": "x", **({"pk": 1} if name in OBJECT_FOR else {})}
        )
        assert ("/1/" in url) == (name in OBJECT_FOR), f"add {name} to OBJECT_FOR"


@pytest.mark.parametrize("name", staff_url_names())
def test_outsider_gets_404_for_another_organisations_pages(
    name, staff_client, organisation, other_organisation
):
    obj = OBJECT_FOR[name](other_organisation) if name in OBJECT_FOR else None
    assert visit(staff_client, name, staff_url(name, other_organisation, obj)).status_code == 404


@pytest.mark.parametrize("name", list(OBJECT_FOR))
def test_another_organisations_id_under_my_organisation_is_404(
    name, staff_client, organisation, other_organisation
):
    foreign = OBJECT_FOR[name](other_organisation)
    assert visit(staff_client, name, staff_url(name, organisation, foreign)).status_code == 404
    mine = OBJECT_FOR[name](organisation)
    expected = 302 if name in POST_ONLY else 200
    assert visit(staff_client, name, staff_url(name, organisation, mine)).status_code == expected


@pytest.mark.parametrize("name", staff_url_names())
def test_signed_out_visitor_is_sent_to_login(name, client, organisation):
    obj = OBJECT_FOR[name](organisation) if name in OBJECT_FOR else None
    page = visit(client, name, staff_url(name, organisation, obj))
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


@pytest.mark.parametrize(
    ("role", "name", "status"),
    [
        (Role.ANALYST, "survey_list", 200),
        (Role.ANALYST, "case_list", 403),
        (Role.AGENT, "case_list", 200),
        (Role.AGENT, "survey_list", 403),
        (Role.OWNER, "survey_list", 200),
    ],
)
def test_roles_decide_what_a_staff_member_may_open(client, organisation, role, name, status):
    user = StaffRoleFactory(organisation=organisation, role=role).user
    client.force_login(user)
    assert client.get(staff_url(name, organisation)).status_code == status


def test_survey_list_query_count_does_not_grow_with_surveys(
    staff_client, organisation, django_assert_max_num_queries
):
    for _ in range(20):
        SurveyFactory(organisation=organisation)
    with django_assert_max_num_queries(8):
        page = staff_client.get(staff_url("survey_list", organisation))
    assert page.status_code == 200


def test_case_list_query_count_does_not_grow_with_cases(
    staff_client, organisation, django_assert_max_num_queries
):
    for _ in range(20):
        CaseFactory(response__survey__organisation=organisation)
    # One fixed query more for the team filter's choices; none per case.
    with django_assert_max_num_queries(10):
        page = staff_client.get(staff_url("case_list", organisation))
    assert page.status_code == 200
    assert page.content.decode().count("/cases/") >= 20


def test_staff_home_lists_only_my_organisations(staff_client, organisation, other_organisation):
    page = staff_client.get(reverse("staff_home")).content.decode()
    assert organisation.name in page and other_organisation.name not in page
