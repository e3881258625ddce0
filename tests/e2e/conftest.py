"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Never `playwright install`: the tests use the system Chromium at CHROMIUM, and fail
(rather than skip) when it is missing, so a green run always means a browser ran.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from email.message import Message
from email.utils import getaddresses
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from a thread with a running loop unless told this is deliberate.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with "
            "`apt-get install -y chromium chromium-driver` (never `playwright install`)",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    """A fresh phone-sized browser profile per test: no cookies carried between tests."""
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in_as(context: BrowserContext, user, live_server) -> None:
    """Give the browser the session cookie of `user`, as if they had signed in earlier."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def member_page(context: BrowserContext, page: Page, member, member_user, live_server) -> Page:
    """The page of a member who signed in earlier (their session cookie is set)."""
    sign_in_as(context, member_user, live_server)
    return page


class Inbox:
    """The messages the session's SMTP sink accepted since this test began."""

    def __init__(self, sink) -> None:
        self.sink = sink
        self.start = len(sink.messages)

    def to(self, address: str) -> list[Message]:
        return [
            message
            for message in self.sink.messages[self.start :]
            if address in [a for _name, a in getaddresses(message.get_all("To", []))]
        ]

    def wait_for(self, address: str, timeout: float = 10) -> list[Message]:
        deadline = time.monotonic() + timeout
        while not self.to(address) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.to(address)


@pytest.fixture
def inbox(settings, smtp_sink, live_server) -> Inbox:
    """Django's email goes over SMTP to the sink, with links that lead to the live server."""
    sink, port = smtp_sink
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.SITE_URL = live_server.url
    return Inbox(sink)


def text_of(message: Message) -> str:
    """The plain-text part of an email, as a mail client shows it."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            body = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            return "\n".join(body.splitlines())  # SMTP carries CRLF line ends
    raise AssertionError("the email has no text part")


# axe-core (npm, pinned in package.json, copied by `make vendor`) is injected by the test
# only: no page a person loads ever includes it.
AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page: Page, *, exclude: list[str] | None = None) -> list[dict]:
    """Run axe-core's WCAG 2.2 A/AA rules over the page as it is now; return its violations."""
    # evaluate, not a <script> tag, so a Content-Security-Policy cannot refuse it.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    context = {"exclude": [[sel] for sel in exclude]} if exclude else None
    return page.evaluate(
        """async ([context, tags]) => {
            const options = {runOnly: {type: 'tag', values: tags}};
            const result = await axe.run(context || document, options);
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary),
            }));
        }""",
        [context, WCAG_22_AA],
    )


def assert_accessible(page: Page, *, exclude: list[str] | None = None) -> None:
    """Fail with each violation's rule, help text and offending elements."""
    violations = axe_violations(page, exclude=exclude)
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
        for v in violations
    )
    assert not violations, f"axe-core found on {page.url}:\n{report}"
