"""An admin wires Chorus to their helpdesk: registers a webhook endpoint, copies its secret,
sends a test event, sees it delivered in the log and resends it.

The receiver is a real HTTP server on 127.0.0.1 in the test, allow-listed the way an
installation allows an intranet receiver (WEBHOOK_ALLOWED_HOSTS); tasks run eagerly, so a
delivery is sent after its request commits, as a worker would send it a moment later.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from communities.choices import Role
from communities.webhooks.verify import signature_verify
from tests.e2e.conftest import sign_in_as
from tests.factories.communities import StaffRoleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Receiver:
    """What the helpdesk received: each request's headers and raw body."""

    url: str
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append({"headers": dict(self.headers), "body": body})
            answer = b'{"received": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    try:
        yield Receiver(url=f"http://127.0.0.1:{server.server_port}/hooks/chorus", requests=received)
    finally:
        server.shutdown()
        server.server_close()


def test_an_admin_registers_an_endpoint_sends_a_test_event_and_resends_it(
    page: Page, context, live_server, organisation, receiver
):
    # given an admin of the organisation at their desk
    admin = UserFactory(email="admin@example.com")
    StaffRoleFactory(user=admin, organisation=organisation, role=Role.ADMIN)
    sign_in_as(context, admin, live_server)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_viewport_size(DESKTOP)
    page.goto(f"/staff/{organisation.slug}/team/")

    # when they open Webhooks from the navigation and register their helpdesk
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    expect(page.get_by_text("No endpoints yet.")).to_be_visible()
    page.get_by_role("link", name="New endpoint").click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description").fill("Helpdesk")
    page.get_by_label("A case was opened").check()
    page.get_by_label("A case was resolved").check()
    page.get_by_role("button", name="Create the endpoint").click()

    # then the secret is shown once, with a warning, and the copy button copies it
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied", exact=True)).to_be_visible()
    # (read back where the site's Permissions-Policy, which forbids reading it, is not sent)
    reader = context.new_page()
    reader.goto("/static/js/copy_button.js")
    assert reader.evaluate("navigator.clipboard.readText()") == secret
    reader.close()

    # when they go to the endpoint and send a test event
    page.get_by_role("link", name=re.compile("go to the endpoint")).click()
    expect(page.get_by_text("No deliveries yet.")).to_be_visible()
    page.get_by_role("button", name="Send test event").click()

    # then the helpdesk received it, signed with the secret, and the log says delivered
    expect(page.get_by_text("A test event is on its way")).to_be_visible()
    assert len(receiver.requests) == 1
    first = receiver.requests[0]
    assert signature_verify(
        secret=secret, header=first["headers"]["Chorus-Signature"], body=first["body"]
    )
    assert json.loads(first["body"])["type"] == "ping"
    delivery = page.locator("li.card").first
    expect(delivery.get_by_role("heading", name="Test event")).to_be_visible()
    expect(delivery.get_by_text("Delivered", exact=True)).to_be_visible()
    expect(delivery.get_by_role("cell", name="200")).to_be_visible()
    expect(delivery.get_by_text('{"received": true}')).to_be_visible()

    # when they resend it
    delivery.get_by_role("button", name=re.compile("^Resend")).click()

    # then the helpdesk got the same event again, and the log shows both attempts
    expect(page.get_by_text("The delivery is being sent again.")).to_be_visible()
    assert len(receiver.requests) == 2
    assert json.loads(receiver.requests[1]["body"])["id"] == json.loads(first["body"])["id"]
    delivery = page.locator("li.card").first
    expect(delivery.get_by_role("row")).to_have_count(3)  # a header and two attempts
    expect(delivery.get_by_text("Delivered", exact=True)).to_be_visible()

    # and the list shows the endpoint working
    page.get_by_role("link", name="Webhooks").first.click()
    row = page.get_by_role("row", name=re.compile("Helpdesk"))
    expect(row.get_by_text("100% of 2 attempts")).to_be_visible()
    expect(row.get_by_text("A case was resolved")).to_be_visible()
    assert secret not in page.content()
