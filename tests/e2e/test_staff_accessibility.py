"""Every staff page passes axe-core's WCAG 2.2 AA rules, in English and in Hebrew (RTL).

The pages are not listed by hand: the test walks the URLconf for every staff URL that
answers GET and fills its parameters from an organisation holding one of every object. A
page added later is visited automatically; one whose parameters the test cannot fill
fails the test, so whoever adds it extends `objects_for` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from communities.choices import Role
from communities.services.imports import member_import_create
from communities.services.organisations import staff_invitation_token
from communities.webhooks.choices import (
    AttemptError,
    DeliveryStatus,
    DisabledReason,
    WebhookEvent,
)
from feedback.reasons import reason_make
from rewards.choices import BadgeKind, LedgerReason, RewardKind
from rewards.services import (
    redemption_approve,
    redemption_reject,
    redemption_request,
    voucher_codes_upload,
)
from surveys.choices import ChannelKind, QuestionType, SurveyKind, SurveyStatus
from surveys.services import response_submit
from tests.e2e.conftest import axe_violations, sign_in_as
from tests.factories.communities import (
    ApiTokenFactory,
    AttributeDefinitionFactory,
    AuditEntryFactory,
    CommunityFactory,
    ConsentRecordFactory,
    LifecycleSnapshotFactory,
    LocationFactory,
    MemberFactory,
    OrganisationFactory,
    SegmentFactory,
    StaffInvitationFactory,
    StaffRoleFactory,
    UserFactory,
    WebhookAttemptFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from tests.factories.feedback import CaseFactory, FollowUpRuleFactory, TeamFactory
from tests.factories.feedback_cases import RootCauseFactory
from tests.factories.insights_notifications import ThresholdAlertFactory
from tests.factories.rewards import (
    LedgerEntryFactory,
    MemberBadgeFactory,
    MemberStandingFactory,
    RedemptionFactory,
    RewardFactory,
    RewardsPolicyFactory,
    TierFactory,
)
from tests.factories.surveys import (
    ChannelFactory,
    ChoiceFactory,
    ExportJobFactory,
    InvitationBatchFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
    SurveyInvitationFactory,
    survey_with_every_question_type,
)
from tests.surveys.helpers import answers_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


# --- the URLconf: every staff URL, and which of them are pages ---------------------------------


@dataclass(frozen=True)
class StaffRoute:
    route: str  # "staff/<slug:org>/surveys/<int:pk>/edit/"
    name: str  # "staff:survey_edit"
    pattern: URLPattern

    @property
    def answers_get(self) -> bool:
        view = getattr(self.pattern.callback, "view_class", None)
        if view is None:  # a function view: assume it is a page
            return True
        return "get" in view.http_method_names and hasattr(view, "get")


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = (
                f"{namespace}:{entry.namespace}"
                if namespace and entry.namespace
                else (entry.namespace or namespace)
            )
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield StaffRoute(prefix + str(entry.pattern), name, entry)


def staff_routes() -> list[StaffRoute]:
    """Every URL a staff member (not a member or respondent) reaches: /staff… ."""
    return [r for r in _walk(get_resolver().url_patterns) if r.route.startswith("staff")]


# --- one organisation holding one of every object ----------------------------------------------


@dataclass
class Organisation:
    owner: Any
    organisation: Any
    # What fills a URL parameter: {kwarg: [values]} for named parameters, and for an id,
    # {the collection before it in the path: [objects]} ("surveys/<int:pk>" -> surveys;
    # "rewards/rules/<int:pk>" -> rewards/rules where that key exists).
    by_kwarg: dict[str, list[Any]] = field(default_factory=dict)
    by_collection: dict[str, list[Any]] = field(default_factory=dict)


def build_organisation() -> Organisation:
    """An organisation with one of everything staff pages show, in four languages."""
    owner = UserFactory(email="owner@example.com", name="Olive Owner")
    # Groups of three or more are reported: the survey below has four responses, so its
    # results and its export show figures (at the default five both would be withheld).
    org = OrganisationFactory(name="Demo Coffee", slug="demo-coffee", min_group_size=3)
    StaffRoleFactory(user=owner, organisation=org, role=Role.OWNER)
    colleague = StaffRoleFactory(organisation=org, role=Role.ANALYST)
    StaffRoleFactory(organisation=org, role=Role.AGENT)
    invitation = StaffInvitationFactory(organisation=org, invited_by=owner)
    api_key = ApiTokenFactory(organisation=org, name="Helpdesk")
    AuditEntryFactory(organisation=org, actor=owner)

    community = CommunityFactory(
        organisation=org, name="Regulars", description="People who come in every week."
    )
    AttributeDefinitionFactory(community=community, key="city", label={"en": "City"})
    attribute = AttributeDefinitionFactory(community=community, age_band=True)
    for day in range(3):
        LifecycleSnapshotFactory(
            community=community, day=timezone.localdate() - timedelta(days=day)
        )
    segment = SegmentFactory(community=community, name="Weekly regulars")
    members = [
        MemberFactory(community=community, name=f"Member {n}", attributes={"city": "Haifa"})
        for n in range(3)
    ]
    member = members[0]
    ConsentRecordFactory(member=member, policy_version=community.policy_version)
    LedgerEntryFactory(member=member, points=30)
    RedemptionFactory(member=member, reward=RewardFactory(organisation=org, name="Free coffee"))
    rewards = build_rewards(owner=owner, community=community, member=member)
    webhooks = build_webhooks(organisation=org)
    member_import = member_import_create(
        community=community,
        filename="members.csv",
        data=b"email,name,language\nann@example.com,Ann,he\nnot-an-address,Bob,en\n",
        consent_confirmed=True,
        created_by=owner,
    )

    store = LocationFactory(organisation=org, name="Haifa port", code="haifa")
    survey = survey_with_every_question_type(
        organisation=org, community=community, title={"en": "Coffee check", "he": "בדיקת קפה"}
    )
    rule = FollowUpRuleFactory(organisation=org, survey=survey, threshold=6)
    for n, (nps, stars) in enumerate([(2, 1), (9, 5), (10, 4)]):
        data = answers_for(survey, nps=nps, stars=stars, text="Cold coffee, long wait.")
        response_submit(
            survey=survey,
            raw_answers=data,
            idempotency_key=data.pop("idempotency_key"),
            member=members[n],
            consent_to_contact=True,
        )
    case = CaseFactory(
        response=ResponseFactory(survey=survey, member=member),
        reasons=[reason_make(code="sentiment", value=-0.8, threshold=-0.3)],
    )
    draft = survey_with_every_question_type(
        organisation=org, status=SurveyStatus.DRAFT, title={"en": "Draft", "he": "טיוטה"}
    )
    poll = SurveyFactory(
        organisation=org, community=community, kind=SurveyKind.POLL, title={"en": "Oat milk?"}
    )
    poll_question = QuestionFactory(
        survey=poll, type=QuestionType.SINGLE_CHOICE, text={"en": "Stock oat milk?"}
    )
    for label in ("Yes", "No"):
        ChoiceFactory(question=poll_question, label={"en": label, "he": label})
    kiosk = ChannelFactory(
        survey=survey, kind=ChannelKind.KIOSK, device_token="kiosk-device", location=store
    )
    batch = InvitationBatchFactory(survey=survey, created_by=owner)
    SurveyInvitationFactory(survey=survey, member=member, email=member.email)
    export = ExportJobFactory(organisation=org, survey=survey, requested_by=owner, ready=True)

    return Organisation(
        owner=owner,
        organisation=org,
        by_kwarg={
            "org": [org.slug],
            "signed": [staff_invitation_token(invitation=invitation)],
        },
        by_collection={
            "api-keys": [api_key],
            "team": [colleague],
            "invitations": [invitation],
            "communities": [community],
            "attributes": [attribute],
            "members": [member],
            "imports": [member_import],
            "segments": [segment],
            "stores": [store],
            "surveys": [survey, draft, poll],
            "questions": [
                q for q in survey.questions.order_by("position") if q.type != QuestionType.TEXT
            ],
            "batches": [batch],
            "kiosks": [kiosk],
            "cases": [case],
            "rules": [rule],
            "teams": [TeamFactory(organisation=org, lead=owner)],
            "root-causes": [RootCauseFactory(organisation=org)],
            "exports": [export],
            "alerts": [ThresholdAlertFactory(location=store, recipients=[owner])],
            **rewards,
            **webhooks,
        },
    )


def build_rewards(*, owner, community, member) -> dict[str, list[Any]]:
    """The community's rewards: earning rules with a tier, a voucher with codes uploaded
    (one row refused), a parcel, and redemptions in each state a staff page shows
    differently. Returns them keyed by the path segment before their id."""
    org = community.organisation
    RewardsPolicyFactory(
        community=community, join_points=5, poll_points=2, profile_points=20, expiry_months=12
    )
    tier = TierFactory(
        community=community,
        names={"en": "Gold", "th": "ทอง", "he": "זהב", "ja": "ゴールド"},
        threshold=100,
        discount_percent=10,
    )
    MemberStandingFactory(member=member, tier=tier, points_counted=150)
    MemberBadgeFactory(member=member, kind=BadgeKind.FIRST_SURVEY)
    LedgerEntryFactory(member=member, points=1000, reason=LedgerReason.ADJUSTMENT)
    voucher = RewardFactory(
        organisation=org,
        community=community,
        kind=RewardKind.VOUCHER,
        name="Coffee voucher",
        translations={"he": {"name": "שובר קפה", "description": "קפה חינם"}},
        stock=None,
        cost=50,
    )
    upload = voucher_codes_upload(
        reward=voucher,
        actor=owner,
        filename="codes.csv",
        data=b"code\nCOFFEE-0001\nCOFFEE-0002\nCOFFEE-0001\nCOFFEE-0003\n",
    )
    parcel = RewardFactory(
        organisation=org, community=community, kind=RewardKind.PHYSICAL, name="Mug", cost=80
    )
    waiting = redemption_request(
        member=member, reward=parcel, shipping_address="1 Herzl St\nHaifa", request_key="a11y-1"
    )
    to_ship = redemption_approve(
        redemption=redemption_request(
            member=member, reward=parcel, shipping_address="2 Port Rd", request_key="a11y-2"
        ),
        actor=owner,
    )
    delivered = redemption_approve(
        redemption=redemption_request(member=member, reward=voucher, request_key="a11y-3"),
        actor=owner,
    )
    turned_down = redemption_reject(
        redemption=redemption_request(member=member, reward=voucher, request_key="a11y-4"),
        actor=owner,
        reason="Only one per visit.",
    )
    return {
        "rewards": [voucher],
        "code-uploads": [upload],
        "rewards/rules": [community],
        "tiers": [tier],
        "redemptions": [waiting, to_ship, delivered, turned_down],
    }


def build_webhooks(*, organisation) -> dict[str, list[Any]]:
    """A working endpoint whose log holds a delivery in each state the log shows (attempts
    with a status code, with an error and none, a receiver's answer), and an endpoint
    disabled for failing. Returns them keyed by the path segment before their id."""
    working = WebhookEndpointFactory(
        organisation=organisation,
        url="https://helpdesk.example.com/hooks/chorus",
        description="Helpdesk",
        events=[WebhookEvent.CASE_OPENED, WebhookEvent.MEMBER_JOINED],
    )
    now = timezone.now()
    for minutes, status, attempts in [
        (30, DeliveryStatus.DELIVERED, [(503, AttemptError.HTTP_5XX), (200, "")]),
        (20, DeliveryStatus.RETRYING, [(None, AttemptError.TIMEOUT)]),
        (10, DeliveryStatus.FAILED, [(410, AttemptError.HTTP_4XX)]),
        (5, DeliveryStatus.PENDING, []),
    ]:
        delivery = WebhookDeliveryFactory(
            endpoint=working,
            event=WebhookEvent.CASE_OPENED,
            status=status,
            created_at=now - timedelta(minutes=minutes),
        )
        for n, (code, error) in enumerate(attempts):
            WebhookAttemptFactory(
                delivery=delivery,
                status_code=code,
                error=error,
                response_excerpt="<html>Gone</html>" if code == 410 else "",
                started_at=delivery.created_at + timedelta(minutes=n),
            )
    failing = WebhookEndpointFactory(
        organisation=organisation,
        url="https://crm.example.com/chorus",
        active=False,
        disabled_at=now,
        disabled_reason=DisabledReason.FAILING,
    )
    return {"webhooks": [working, failing]}


# The invitation is for someone else: the owner sees the page that says so.
EXPECTED_STATUS = {"staff_invitation_accept": 403}

PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def urls_for(route: StaffRoute, built: Organisation) -> list[str]:
    """Every URL of the route the organisation's objects fill; [] when one cannot be."""
    choices: list[dict[str, Any]] = [{}]
    for match in PARAMETER.finditer(route.route):
        name = match.group("name")
        if name in built.by_kwarg:
            values = built.by_kwarg[name]
        else:
            # The collection before it ("rules"), or the two before it where two areas
            # share a name ("rewards/rules" beside the follow-up "rules").
            path = route.route[: match.start()].rstrip("/").split("/")
            found = built.by_collection.get("/".join(path[-2:])) or built.by_collection.get(
                path[-1], []
            )
            values = [obj.pk for obj in found]
        if not values:
            return []
        choices = [{**kwargs, name: value} for kwargs in choices for value in values]
    return [reverse(route.name, kwargs=kwargs) for kwargs in choices]


# --- the checks ---------------------------------------------------------------------------------


def label_in_name_violations(page: Page) -> list[dict]:
    """WCAG 2.5.3 (label in name) for every control, with axe's own rule (experimental, so
    not in the tag run); axe is already on the page."""
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {
                runOnly: {type: 'rule', values: ['label-content-name-mismatch']},
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary),
            }));
        }"""
    )


def choose_language_in_the_navigation(page: Page, name: str) -> None:
    page.locator("#language-switcher").click()
    page.get_by_role("button", name=name, exact=True).click()


@pytest.mark.parametrize(
    ("language", "direction", "switch_to"),
    [("en", "ltr", "English"), ("he", "rtl", "עברית")],
)
def test_every_staff_page_passes_axe_core(
    page: Page, context, live_server, language, direction, switch_to
):
    # given an owner of an organisation with one of every object, on a desktop screen
    built = build_organisation()
    sign_in_as(context, built.owner, live_server)
    page.set_viewport_size(DESKTOP)
    # and every staff URL that shows a page, with its parameters filled
    routes = [r for r in staff_routes() if r.answers_get]
    unfilled = [r.route for r in routes if not urls_for(r, built)]
    assert not unfilled, (
        f"these staff pages take parameters the test cannot fill: {unfilled}; "
        "add their objects to build_organisation()"
    )
    urls = [(route.name, url) for route in routes for url in urls_for(route, built)]
    assert len(urls) >= 40
    # when the owner chooses the language in the staff navigation
    page.goto(reverse("staff_home"))
    choose_language_in_the_navigation(page, switch_to)
    expect(page.locator("html")).to_have_attribute("lang", language)
    # then every page is in that language and axe finds nothing
    found: list[str] = []
    for name, url in urls:
        answer = page.request.get(url)
        assert answer.status == EXPECTED_STATUS.get(name, 200), f"{url} answered {answer.status}"
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue  # a download or JSON for a page's script, not a page
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("html")).to_have_attribute("dir", direction)
        violations = axe_violations(page) + label_in_name_violations(page)
        found += [
            f"{url} {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
            for v in violations
        ]
    assert not found, f"axe-core found in {language}:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("language", "direction", "switch_to"),
    [
        ("en", "ltr", "English"),
        ("th", "ltr", "ภาษาไทย"),
        ("he", "rtl", "עברית"),
        ("ja", "ltr", "日本語"),
    ],
)
def test_the_webhook_pages_pass_axe_core_in_every_language(
    page: Page, context, live_server, language, direction, switch_to
):
    # given an owner of an organisation with webhooks (and nothing else: the walk above
    # visits these pages in English and Hebrew among all the others)
    owner = UserFactory(email="owner@example.com")
    org = OrganisationFactory(name="Demo Coffee", slug="demo-coffee")
    StaffRoleFactory(user=owner, organisation=org, role=Role.OWNER)
    built = Organisation(
        owner=owner,
        organisation=org,
        by_kwarg={"org": [org.slug]},
        by_collection=build_webhooks(organisation=org),
    )
    sign_in_as(context, owner, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(reverse("staff_home"))
    choose_language_in_the_navigation(page, switch_to)
    routes = [r for r in staff_routes() if r.answers_get and r.name.startswith("staff:webhook")]
    urls = [url for route in routes for url in urls_for(route, built)]
    assert len(urls) >= 10
    found: list[str] = []

    def check(where: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("html")).to_have_attribute("dir", direction)
        violations = axe_violations(page) + label_in_name_violations(page)
        found.extend(
            f"{where} {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
            for v in violations
        )

    # when the owner visits each webhook page
    for url in urls:
        page.goto(url)
        check(url)
    # and the pages only a POST shows: the form with its errors, and a secret shown once
    page.goto(reverse("staff:webhook_create", args=[org.slug]))
    page.locator("form[novalidate] button.btn-primary").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    check("the new-endpoint form with errors")
    endpoint = built.by_collection["webhooks"][0]
    page.goto(reverse("staff:webhook_secret", args=[org.slug, endpoint.pk]))
    page.locator("main form button.btn-warning").click()
    expect(page.locator("#webhook-secret")).to_be_visible()
    check("the new secret")

    # then axe finds nothing
    assert not found, f"axe-core found in {language}:\n" + "\n".join(found)


def test_the_language_choice_returns_to_the_same_page_and_is_remembered(
    page: Page, context, live_server, browser
):
    # given an owner on their survey list
    built = build_organisation()
    sign_in_as(context, built.owner, live_server)
    page.set_viewport_size(DESKTOP)
    surveys = reverse("staff:survey_list", args=[built.organisation.slug])
    page.goto(surveys)
    # when they choose Japanese in the navigation
    choose_language_in_the_navigation(page, "日本語")
    # then the same page is shown in Japanese
    expect(page).to_have_url(f"{live_server.url}{surveys}")
    expect(page.get_by_role("heading", name="アンケート")).to_be_visible()
    # and on another computer (a new browser profile asking for English) too
    other = browser.new_context(base_url=live_server.url, locale="en-GB")
    try:
        sign_in_as(other, built.owner, live_server)
        elsewhere = other.new_page()
        elsewhere.goto(reverse("staff:case_list", args=[built.organisation.slug]))
        expect(elsewhere.locator("html")).to_have_attribute("lang", "ja")
    finally:
        other.close()
