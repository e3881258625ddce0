import pytest

from communities.webhooks.cache import endpoints_forget
from tests.communities.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    """The local receiver is on 127.0.0.1, which only the allow-list lets through; each
    test starts with no cached endpoint lists."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0
    endpoints_forget()
    yield
    endpoints_forget()


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()
