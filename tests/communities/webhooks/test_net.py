"""The SSRF guard: which addresses a webhook may reach, checked for every address a host
resolves to, and the request sent to the address that was checked."""

import ipaddress
import socket
from unittest import mock

import pytest

from communities.webhooks.choices import AttemptError
from communities.webhooks.net import (
    WebhookRefused,
    address_blocked,
    url_resolve,
    webhook_post,
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (CGNAT)
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "::127.0.0.1",  # IPv4-compatible
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_blocked(address):
    assert address_blocked(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert not address_blocked(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/",
        "http://[::ffff:7f00:1]/",
        "http://0.0.0.0/",
    ],
)
def test_urls_naming_a_blocked_address_are_refused(settings, url):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(WebhookRefused) as refused:
        url_resolve(url)
    assert refused.value.code == AttemptError.BLOCKED_ADDRESS


def test_a_host_name_resolving_to_loopback_is_refused(settings):
    # given nothing allow-listed
    settings.WEBHOOK_ALLOWED_HOSTS = []
    # when a name that resolves to 127.0.0.1 is checked
    with pytest.raises(WebhookRefused) as refused:
        url_resolve("http://localhost:8000/hook")
    # then it is refused for its address
    assert refused.value.code == AttemptError.BLOCKED_ADDRESS


def test_a_host_with_any_blocked_address_is_refused(settings):
    # given a name that resolves to a public and a private address (rebinding's shape)
    settings.WEBHOOK_ALLOWED_HOSTS = []
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443)),
    ]
    with (
        mock.patch("communities.webhooks.net.socket.getaddrinfo", return_value=answers),
        pytest.raises(WebhookRefused) as refused,
    ):
        url_resolve("https://mixed.example.com/hook")
    assert refused.value.code == AttemptError.BLOCKED_ADDRESS


@pytest.mark.parametrize("allowed", [["127.0.0.1"], ["127.0.0.0/8"], ["LOCALHOST"]])
def test_the_allow_list_lets_named_hosts_addresses_and_networks_through(settings, allowed):
    settings.WEBHOOK_ALLOWED_HOSTS = allowed
    target = url_resolve(
        "http://localhost:9/hook" if "LOCALHOST" in allowed else "http://127.0.0.1:9/"
    )
    assert str(target.address) == "127.0.0.1"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "https://user:pw@example.com/hook", "https:///nohost", "http://[::1/"],
)
def test_urls_that_are_not_webhook_urls_are_refused(url):
    with pytest.raises(WebhookRefused) as refused:
        url_resolve(url)
    assert refused.value.code == AttemptError.INVALID_URL


def test_the_request_goes_to_the_checked_address_with_the_original_host(settings, receiver):
    # given a host name the DNS answers with the receiver's address, allow-listed by name
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.customer.test"]
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", receiver.port))]
    with mock.patch("communities.webhooks.net.socket.getaddrinfo", return_value=answers) as resolve:
        # when a webhook is posted to it
        answer = webhook_post(
            url=f"http://hooks.customer.test:{receiver.port}/in?x=1",
            body=b"{}",
            headers={"Content-Type": "application/json"},
        )
    # then the name was resolved once (the check), the connection went to that address,
    # and the receiver saw the URL's own host, path and query
    assert [c.args[0] for c in resolve.call_args_list].count("hooks.customer.test") == 1
    assert answer.ok
    (received,) = receiver.to("/in?x=1")
    assert received.headers["Host"] == f"hooks.customer.test:{receiver.port}"


def test_a_refused_url_is_an_answer_with_the_reason_not_an_exception(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    answer = webhook_post(url="http://127.0.0.1:9/", body=b"{}", headers={})
    assert answer.status_code is None
    assert answer.error == AttemptError.BLOCKED_ADDRESS
