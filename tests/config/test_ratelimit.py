"""Rate limits count per visitor, and a visitor cannot pick their own address."""

import pytest
from django.test import RequestFactory

from config.ratelimit import client_ip, rate_limited


def request(remote="10.0.0.9", forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.CHORUS = {**settings.CHORUS, "TRUSTED_PROXIES": 0}
    assert client_ip(request(forwarded="1.2.3.4")) == "10.0.0.9"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        # a client that forges the header only adds entries to the left of the proxy's
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        # fewer entries than proxies: the chain is not what we were told; trust nothing
        (2, "203.0.113.7", "10.0.0.9"),
    ],
)
def test_behind_trusted_proxies_the_address_they_saw_counts(settings, proxies, forwarded, expected):
    settings.CHORUS = {**settings.CHORUS, "TRUSTED_PROXIES": proxies}
    assert client_ip(request(forwarded=forwarded)) == expected


def test_a_window_allows_the_limit_then_refuses():
    hits = [rate_limited(scope="test", key="k", limit=3, window=60) for _ in range(5)]
    assert hits == [False, False, False, True, True]
    assert rate_limited(scope="test", key="other", limit=3, window=60) is False
