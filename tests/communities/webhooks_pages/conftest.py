import pytest

from tests.factories.communities import WebhookEndpointFactory

# A URL whose host does not resolve: accepted at registration (each delivery resolves it
# again), and no test waits on a network.
HOOK_URL = "https://hooks.example.com/chorus"


@pytest.fixture
def endpoint(organisation):
    return WebhookEndpointFactory(
        organisation=organisation,
        url=HOOK_URL,
        description="Helpdesk",
        events=["case.opened", "response.created"],
    )
