"""Outbound HTTP for webhooks, safe to point at a URL a customer typed (SSRF).

An endpoint's URL is the customer's, but the request leaves from inside our network: a
URL naming 127.0.0.1, 10.0.0.5 or the cloud metadata address 169.254.169.254 would let
anyone with a staff login probe or call our own services. So the host is resolved here,
every address it resolves to is checked, and the request connects to the checked address
(the URL's host travels in the Host header and TLS SNI, and the certificate is verified
against it): a DNS answer that changes between the check and the connect (rebinding)
cannot slip another address in. No redirect is followed (a 3xx could point anywhere),
no proxy from the environment is used, and at most WEBHOOK_RESPONSE_MAX_BYTES of the
answer are read.

WEBHOOK_ALLOWED_HOSTS lists hosts, addresses or networks ("10.1.0.0/16") allowed although
private, for a receiver on an intranet (and tests' local receiver).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import httpx
from django.conf import settings

from communities.webhooks.choices import AttemptError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Addresses that reach the public internet only through translation tables we do not
# control; ipaddress counts them global, a receiver's URL has no business naming them.
_TRANSLATED = (
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64: the IPv4 address is in the low bits
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("2002::/16"),  # 6to4
)


class WebhookRefused(Exception):
    """The URL may not be called (bad URL, or a blocked address); `code` says why."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Target:
    """Where a checked URL connects: the URL's own host and port, and the address
    the host was resolved to and checked."""

    url: SplitResult
    host: str
    port: int
    address: IPAddress


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """What one request got: a status code, or an error code when no answer came."""

    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def address_blocked(address: IPAddress) -> bool:
    """True for an address no webhook may reach: private, loopback, link-local,
    multicast, reserved, unspecified, shared (CGNAT), documentation, and the same hidden
    inside IPv6 (IPv4-mapped, IPv4-compatible, NAT64, 6to4)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or _ipv4_compatible(address)
        if embedded is not None:
            return address_blocked(embedded)
        if any(address in network for network in _TRANSLATED):
            return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _ipv4_compatible(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    # ::a.b.c.d (deprecated, yet some stacks still route it to the IPv4 address).
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _allow_list() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names: set[str] = set()
    networks = []
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def host_allow_listed(*, host: str, address: IPAddress | None = None) -> bool:
    """Whether WEBHOOK_ALLOWED_HOSTS names `host` (as the URL names it) or covers
    `address` (or the host itself, when it is an address literal)."""
    names, networks = _allow_list()
    host = host.lower().strip("[]").rstrip(".")
    if host in names:
        return True
    if address is None:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
    return any(address in network for network in networks)


def address_allowed(*, host: str, address: IPAddress) -> bool:
    """Whether `host` (as the URL names it), resolved to `address`, may be called."""
    return host_allow_listed(host=host, address=address) or not address_blocked(address)


def url_parse(url: str) -> tuple[SplitResult, str, int]:
    """The URL's parts, host (IDNA-encoded, lower case) and port; refuses what a webhook
    URL may not be (not http(s), no host, credentials in it)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookRefused(AttemptError.INVALID_URL, str(exc)) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(AttemptError.INVALID_URL)
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused(AttemptError.INVALID_URL, "credentials in the URL")
    try:
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise WebhookRefused(AttemptError.INVALID_URL, str(exc)) from exc
    return parts, host, port or (443 if parts.scheme == "https" else 80)


def host_resolve(*, host: str, port: int) -> IPAddress:
    """Resolve `host` (IDNA-encoded, as url_parse gives it) and check every address it
    resolves to; the first one is where requests go. Raises WebhookRefused."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise WebhookRefused(AttemptError.DNS, str(exc)) from exc
        # Scope ids ("fe80::1%eth0") are dropped: such an address is blocked anyway.
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise WebhookRefused(AttemptError.DNS)
    # Any blocked address refuses the host: which one the connect would use is not ours
    # to choose (and a host answering with both is exactly what rebinding looks like).
    for address in addresses:
        if not address_allowed(host=host, address=address):
            raise WebhookRefused(AttemptError.BLOCKED_ADDRESS, str(address))
    return addresses[0]


def url_resolve(url: str) -> Target:
    """Resolve the URL's host and check every address it resolves to; the first one is
    where the request goes. Raises WebhookRefused."""
    parts, host, port = url_parse(url)
    return Target(url=parts, host=host, port=port, address=host_resolve(host=host, port=port))


def _pinned_url(target: Target) -> str:
    address = target.address
    netloc = f"[{address}]" if address.version == 6 else str(address)
    path = target.url.path or "/"
    query = f"?{target.url.query}" if target.url.query else ""
    return f"{target.url.scheme}://{netloc}:{target.port}{path}{query}"


def _host_header(target: Target) -> str:
    default = 443 if target.url.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


class WebhookSession:
    """The connections of one batch of deliveries: each host resolved and checked once
    (a refusal too), and one pinned httpx.Client per (scheme, host, address, port) whose
    kept-alive connections are reused for the batch, then closed with it. A connection is
    thus only ever reused for the host its TLS certificate was checked for, and the next
    batch resolves and checks again (an address that changed is not kept for long).

    Safe to post through from several threads at once (the batch's send pool)."""

    def __init__(self, *, connections: int = 1) -> None:
        self._connections = max(connections, 1)
        self._lock = threading.Lock()
        self._hosts: dict[tuple[str, str, int], _Resolved] = {}
        self._clients: dict[tuple[str, str, str, int], httpx.Client] = {}

    def __enter__(self) -> WebhookSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def target(self, url: str) -> Target:
        """Where `url` connects, checked (once per host for the session). Raises
        WebhookRefused."""
        parts, host, port = url_parse(url)
        with self._lock:
            slot = self._hosts.setdefault((parts.scheme, host, port), _Resolved())
        with slot.lock:
            if slot.result is None:
                try:
                    slot.result = host_resolve(host=host, port=port)
                except WebhookRefused as refused:
                    slot.result = refused
        if isinstance(slot.result, WebhookRefused):
            raise slot.result
        return Target(url=parts, host=host, port=port, address=slot.result)

    def _client(self, target: Target) -> httpx.Client:
        key = (target.url.scheme, target.host, str(target.address), target.port)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = httpx.Client(
                    timeout=httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS),
                    follow_redirects=False,
                    trust_env=False,
                    limits=httpx.Limits(
                        max_connections=self._connections,
                        max_keepalive_connections=self._connections,
                    ),
                )
            return client

    def post(self, *, url: str, body: bytes, headers: dict[str, str]) -> HttpAnswer:
        """POST `body` to `url` once, safely (see the module's docstring). Never raises
        for what the receiver does: a refusal, timeout or error is an HttpAnswer."""
        started = time.monotonic()
        try:
            target = self.target(url)
        except WebhookRefused as refused:
            return HttpAnswer(None, refused.code, "", _since(started))
        return _send(self._client(target), target, body=body, headers=headers, started=started)


class _Resolved:
    __slots__ = ("lock", "result")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.result: IPAddress | WebhookRefused | None = None


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _send(
    client: httpx.Client, target: Target, *, body: bytes, headers: dict[str, str], started: float
) -> HttpAnswer:
    deadline = started + settings.WEBHOOK_TIMEOUT_SECONDS
    limit = settings.WEBHOOK_RESPONSE_MAX_BYTES
    request_headers = {
        **headers,
        "Host": _host_header(target),
        # Compressed answers would be inflated past the cap before we could stop reading.
        "Accept-Encoding": "identity",
    }
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    received = bytearray()
    try:
        with client.stream(
            "POST",
            _pinned_url(target),
            content=body,
            headers=request_headers,
            extensions=extensions,
        ) as response:
            for chunk in response.iter_raw():
                received += chunk
                if len(received) >= limit or time.monotonic() > deadline:
                    break
            status = response.status_code
    except httpx.TimeoutException:
        return HttpAnswer(None, AttemptError.TIMEOUT, "", _since(started))
    except httpx.ConnectError as exc:
        code = AttemptError.TLS if "SSL" in str(exc) or "CERTIFICATE" in str(exc) else None
        return HttpAnswer(None, code or AttemptError.CONNECT, "", _since(started))
    except (httpx.HTTPError, httpx.InvalidURL, OSError):
        return HttpAnswer(None, AttemptError.PROTOCOL, "", _since(started))
    excerpt = bytes(received[:limit]).decode("utf-8", errors="replace")[:500]
    return HttpAnswer(status, _status_error(status), excerpt, _since(started))


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> HttpAnswer:
    """POST `body` to `url` once, on a connection of its own (a batch uses a
    WebhookSession); see WebhookSession.post."""
    with WebhookSession() as session:
        return session.post(url=url, body=body, headers=headers)


def _status_error(status: int) -> str:
    if 200 <= status < 300:
        return ""
    if 300 <= status < 400:
        return AttemptError.REDIRECT
    if 400 <= status < 500:
        return AttemptError.HTTP_4XX
    if status >= 500:
        return AttemptError.HTTP_5XX
    return AttemptError.HTTP_OTHER
