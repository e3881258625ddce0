"""Owners and admins register, change, re-key and delete webhook endpoints on staff pages;
a secret is shown once, bad input is refused next to its field, every change is audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.choices import Role
from communities.models import AuditEntry
from communities.webhooks.choices import DeliveryStatus, DisabledReason
from communities.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.communities.webhooks_pages.conftest import HOOK_URL
from tests.factories.communities import (
    StaffRoleFactory,
    WebhookAttemptFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


def _url(name, organisation, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_each_endpoint_with_its_events_status_and_last_delivery(
    staff_client, organisation, endpoint
):
    # given a delivery that failed, then a newer one that arrived
    WebhookDeliveryFactory(
        endpoint=endpoint,
        status=DeliveryStatus.FAILED,
        created_at=timezone.now() - timedelta(hours=2),
    )
    WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.DELIVERED)

    # when
    page = staff_client.get(_url("webhook_list", organisation))

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert HOOK_URL in html and "Helpdesk" in html
    assert "A case was opened" in html and "A response was submitted" in html
    assert "Active" in html
    [row] = page.context["rows"]
    assert row["last_status"] == "Delivered"
    assert _url("webhook_detail", organisation, endpoint.pk) in html


def test_the_list_shows_the_success_rate_of_the_last_24_hours_only(
    staff_client, organisation, endpoint
):
    # given three attempts today, two answered 2xx, and a failure two days ago
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    for code in (200, 204, 500):
        WebhookAttemptFactory(delivery=delivery, status_code=code)
    WebhookAttemptFactory(
        delivery=delivery, status_code=500, started_at=timezone.now() - timedelta(days=2)
    )

    # when
    page = staff_client.get(_url("webhook_list", organisation))

    # then
    [row] = page.context["rows"]
    assert (row["health"].attempts, row["health"].success_percent) == (3, 67)
    assert "67% of 3 attempts" in page.content.decode()


def test_the_list_says_when_an_endpoint_was_disabled_for_failing(staff_client, organisation):
    # given
    WebhookEndpointFactory(
        organisation=organisation,
        active=False,
        disabled_at=timezone.now(),
        disabled_reason=DisabledReason.FAILING,
    )

    # when
    html = staff_client.get(_url("webhook_list", organisation)).content.decode()

    # then
    assert "Disabled: failing" in html and "since" in html
    assert "No attempts" in html and "None yet" in html


def test_the_list_query_count_does_not_grow_with_endpoints(
    staff_client, organisation, django_assert_max_num_queries
):
    # given twenty endpoints, each with a delivery and an attempt
    for n in range(20):
        delivery = WebhookDeliveryFactory(
            endpoint=WebhookEndpointFactory(
                organisation=organisation, url=f"https://hooks.example.com/{n}"
            )
        )
        WebhookAttemptFactory(delivery=delivery)

    # when / then
    with django_assert_max_num_queries(8):
        assert staff_client.get(_url("webhook_list", organisation)).status_code == 200


# --- a new endpoint -----------------------------------------------------------------------------


def test_a_new_endpoint_shows_its_secret_once(staff_client, staff_user, organisation):
    # when an admin registers an endpoint
    page = staff_client.post(
        _url("webhook_create", organisation),
        {"url": HOOK_URL, "description": "CRM", "events": ["member.joined", "case.opened"]},
    )

    # then the page that answers shows the secret, and no cache may keep it
    endpoint = WebhookEndpoint.objects.get()
    secret = page.context["secret"]
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert secret == endpoint.secret and secret in page.content.decode()
    assert "will not be shown again" in page.content.decode()
    assert endpoint.url == HOOK_URL and sorted(endpoint.events) == ["case.opened", "member.joined"]
    assert endpoint.created_by == staff_user and endpoint.organisation == organisation
    # and no page shows it afterwards
    for name, args in [
        ("webhook_list", ()),
        ("webhook_detail", (endpoint.pk,)),
        ("webhook_edit", (endpoint.pk,)),
        ("webhook_secret", (endpoint.pk,)),
        ("webhook_delete", (endpoint.pk,)),
    ]:
        later = staff_client.get(_url(name, organisation, *args))
        assert later.status_code == 200 and secret not in later.content.decode(), name
    # and the audit log names the change without the secret
    entry = AuditEntry.objects.get(action="webhook.create")
    assert entry.actor == staff_user and secret not in str(entry.changes)


def test_the_new_endpoint_form_offers_every_event_but_the_test_ping(staff_client, organisation):
    # when
    page = staff_client.get(_url("webhook_create", organisation))

    # then each event is a checkbox labelled in words
    html = page.content.decode()
    assert html.count('type="checkbox" class="form-check-input"  name="events"') == 9
    assert 'value="ping"' not in html
    assert "A member&#x27;s data was erased" in html and "A case was resolved" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "not a url"}, "url", "Enter a full web address"),
        ({"url": "http://hooks.example.com/chorus"}, "url", "https://"),
        ({"url": "https://10.0.0.5/hook"}, "url", "private or reserved"),
        ({"url": "https://127.0.0.1/hook"}, "url", "private or reserved"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "url", "private or reserved"),
        ({"url": "https://[::1]/hook"}, "url", "private or reserved"),
        ({"url": "https://user:pw@hooks.example.com/"}, "url", "user name or password"),
        ({"url": "https://hooks.example.com/" + "a" * 480}, "url", "too long"),
        ({"events": []}, "events", "Choose at least one event"),
        ({"events": ["ping"]}, "events", "valid choice"),
    ],
    ids=[
        "not-a-url",
        "http",
        "private",
        "loopback",
        "metadata",
        "ipv6-loopback",
        "credentials",
        "too-long",
        "no-event",
        "ping",
    ],
)
def test_the_endpoint_form_refuses_bad_input_next_to_the_field(
    staff_client, organisation, data, field, message
):
    # given
    body = {"url": HOOK_URL, "events": ["case.opened"], **data}

    # when
    page = staff_client.post(_url("webhook_create", organisation), body)

    # then
    assert page.status_code == 400
    errors = page.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not WebhookEndpoint.objects.exists()


def test_the_same_url_cannot_be_registered_twice_in_an_organisation(
    staff_client, organisation, endpoint, other_organisation
):
    # given the URL is another organisation's too: that does not matter
    WebhookEndpointFactory(organisation=other_organisation, url="https://hooks.example.com/b")

    # when
    again = staff_client.post(
        _url("webhook_create", organisation), {"url": HOOK_URL, "events": ["case.opened"]}
    )
    elsewhere = staff_client.post(
        _url("webhook_create", organisation),
        {"url": "https://hooks.example.com/b", "events": ["case.opened"]},
    )

    # then
    assert again.status_code == 400
    assert "already sends to this URL" in " ".join(again.context["form"].errors["url"])
    assert elsewhere.status_code == 200
    assert WebhookEndpoint.objects.filter(organisation=organisation).count() == 2


def test_an_allow_listed_local_receiver_may_use_http(staff_client, organisation, settings):
    # given the installation allows its own intranet receiver
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]

    # when
    page = staff_client.post(
        _url("webhook_create", organisation),
        {"url": "http://127.0.0.1:8765/hook", "events": ["case.opened"]},
    )

    # then
    assert page.status_code == 200
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:8765/hook"


# --- changing one -------------------------------------------------------------------------------


def test_editing_changes_the_url_events_and_description(staff_client, organisation, endpoint):
    # when
    page = staff_client.post(
        _url("webhook_edit", organisation, endpoint.pk),
        {
            "url": "https://hooks.example.com/v2",
            "description": "Helpdesk v2",
            "events": ["case.resolved"],
            "active": "on",
        },
    )

    # then
    endpoint.refresh_from_db()
    assert page.status_code == 302
    assert page["Location"] == _url("webhook_detail", organisation, endpoint.pk)
    assert (endpoint.url, endpoint.description, endpoint.events) == (
        "https://hooks.example.com/v2",
        "Helpdesk v2",
        ["case.resolved"],
    )
    entry = AuditEntry.objects.get(action="webhook.update")
    assert entry.changes["url"] == [HOOK_URL, "https://hooks.example.com/v2"]


def test_the_edit_form_starts_from_the_endpoint_and_refuses_what_the_new_form_refuses(
    staff_client, organisation, endpoint
):
    # when
    form = staff_client.get(_url("webhook_edit", organisation, endpoint.pk)).context["form"]
    refused = staff_client.post(
        _url("webhook_edit", organisation, endpoint.pk),
        {"url": "https://192.168.1.1/", "events": ["case.opened"], "active": "on"},
    )

    # then
    assert form.initial["url"] == HOOK_URL and form.initial["active"] is True
    assert refused.status_code == 400 and "url" in refused.context["form"].errors
    endpoint.refresh_from_db()
    assert endpoint.url == HOOK_URL


def test_turning_a_failing_endpoint_back_on_clears_why_it_was_disabled(staff_client, organisation):
    # given
    endpoint = WebhookEndpointFactory(
        organisation=organisation,
        active=False,
        disabled_at=timezone.now(),
        disabled_reason=DisabledReason.FAILING,
        failing_since=timezone.now() - timedelta(days=1),
    )

    # when
    staff_client.post(
        _url("webhook_edit", organisation, endpoint.pk),
        {"url": endpoint.url, "events": endpoint.events, "active": "on"},
    )

    # then
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_at is None and endpoint.failing_since is None


def test_unticking_active_turns_the_endpoint_off(staff_client, organisation, endpoint):
    # when
    staff_client.post(
        _url("webhook_edit", organisation, endpoint.pk),
        {"url": endpoint.url, "events": endpoint.events},
    )

    # then
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason == DisabledReason.STAFF
    html = staff_client.get(_url("webhook_list", organisation)).content.decode()
    assert "Turned off" in html


def test_a_new_secret_is_asked_for_then_shown_once(staff_client, organisation, endpoint):
    # given
    old = endpoint.secret

    # when the admin opens the page, then confirms
    question = staff_client.get(_url("webhook_secret", organisation, endpoint.pk))
    answer = staff_client.post(_url("webhook_secret", organisation, endpoint.pk))

    # then nothing changed until they confirmed, and the new secret is shown once
    assert question.status_code == 200 and old not in question.content.decode()
    endpoint.refresh_from_db()
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert endpoint.secret != old and endpoint.secret in answer.content.decode()
    assert AuditEntry.objects.filter(action="webhook.secret_rotate").count() == 1
    assert endpoint.secret not in str(AuditEntry.objects.values_list("changes", flat=True))


def test_deleting_is_asked_for_then_removes_the_endpoint_and_its_log(
    staff_client, organisation, endpoint
):
    # given
    WebhookAttemptFactory(delivery=WebhookDeliveryFactory(endpoint=endpoint))

    # when
    question = staff_client.get(_url("webhook_delete", organisation, endpoint.pk))
    assert WebhookEndpoint.objects.exists() and WebhookDelivery.objects.exists()
    answer = staff_client.post(_url("webhook_delete", organisation, endpoint.pk))

    # then
    assert question.status_code == 200 and "cannot be undone" in question.content.decode()
    assert answer.status_code == 302 and answer["Location"] == _url("webhook_list", organisation)
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert AuditEntry.objects.filter(action="webhook.delete", target_label=HOOK_URL).exists()


# --- who sees them ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown"),
    [(Role.OWNER, True), (Role.ADMIN, True), (Role.ANALYST, False), (Role.AGENT, False)],
)
def test_webhooks_are_in_the_staff_navigation_of_those_who_manage(
    client, organisation, role, shown
):
    # given
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    home = "staff:survey_list" if role != Role.AGENT else "staff:case_list"

    # when
    html = client.get(reverse(home, args=[organisation.slug])).content.decode()

    # then
    assert (_url("webhook_list", organisation) in html) is shown
