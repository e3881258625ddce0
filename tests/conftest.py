import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from communities.choices import Role
from communities.services import api_token_create
from tests.factories.communities import (
    CommunityFactory,
    ConsentRecordFactory,
    MemberFactory,
    OrganisationFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.surveys import survey_with_every_question_type

pytest_plugins = ["tests.worker_fixtures"]


@pytest.fixture(autouse=True)
def _eager_celery(request, settings):
    """Outside worker tests, tasks run in-process so each test sees its own effects."""
    from config.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _redis_breakers_closed():
    """The Redis breakers are per process: one test's outage must not skip the next test's
    publishing or cache calls."""
    from config.breaker import broker_breaker, cache_breaker

    broker_breaker.reset()
    cache_breaker.reset()
    yield
    broker_breaker.reset()
    cache_breaker.reset()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a test that activates Hebrew (a service
    rendering in a member's language) must not leave the next test's messages in Hebrew."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every factory user hashes a password; PBKDF2's deliberate slowness is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Each test gets a fresh cache namespace: with Redis the cache outlives a test run, and
    allauth keeps its rate limits there. A prefix isolates without flushing the broker."""
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for alias, config in settings.CACHES.items()
    }


@pytest.fixture
def key(organisation) -> str:
    """An API key of the organisation, as an integration (a CRM, a helpdesk) holds it."""
    return api_token_create(organisation=organisation, name="integration")[1]


@pytest.fixture
def api(key) -> APIClient:
    """A REST client that calls with the organisation's API key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def organisation():
    return OrganisationFactory(name="Demo Coffee", slug="demo-coffee")


@pytest.fixture
def community(organisation):
    return CommunityFactory(organisation=organisation)


@pytest.fixture
def survey(organisation, community):
    return survey_with_every_question_type(organisation=organisation, community=community)


@pytest.fixture
def member_user():
    return UserFactory(email="member@example.com")


@pytest.fixture
def member(community, member_user):
    """A member who joined properly: their acceptance of the community terms is on record."""
    member = MemberFactory(community=community, user=member_user, email=member_user.email)
    ConsentRecordFactory(member=member, policy_version=community.policy_version)
    return member


@pytest.fixture
def member_client(member, member_user) -> Client:
    client = Client()
    client.force_login(member_user)
    return client


@pytest.fixture
def staff_user(organisation):
    user = UserFactory(email="staff@example.com")
    StaffRoleFactory(user=user, organisation=organisation, role=Role.ADMIN)
    return user


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def other_organisation():
    return OrganisationFactory(name="Other Org", slug="other-org")
