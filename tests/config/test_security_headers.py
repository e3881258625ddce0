"""Every response carries a strict Content-Security-Policy and a Permissions-Policy that
switches off what no page uses: pages, JSON, files, and error pages alike (issue 12,
"No Content-Security-Policy and no Permissions-Policy"). tests/e2e/test_csp.py loads every
kind of page in Chromium under the policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.http import HttpRequest
from django.test import Client
from django.urls import path, reverse

from config.security import permissions_policy
from surveys.services import kiosk_register
from tests.config.test_settings import manage
from tests.factories.communities import CommunityFactory, LocationFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


def directives(response) -> dict[str, list[str]]:
    """The response's policy as {directive: [sources]}; fails when there is none."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.status_code} {response.get('Content-Type')} has no CSP"
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def features(response) -> dict[str, str]:
    """The response's Permissions-Policy as {feature: allowlist}."""
    header = response.headers.get("Permissions-Policy")
    assert header, f"{response.status_code} {response.get('Content-Type')} has none"
    return dict(item.strip().split("=", 1) for item in header.split(","))


def assert_strict(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"][0] == "'self'"
    assert all(s.startswith("'nonce-") for s in policy["style-src"][1:]), policy["style-src"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["font-src"] == ["'self'"]
    assert policy["worker-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in str(policy) and "'unsafe-eval'" not in str(policy)
    allowed = features(response)
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial"):
        assert allowed[feature] == "()", feature
    assert allowed["fullscreen"] == "(self)"


# --- every kind of response ----------------------------------------------------------------


def test_an_html_page_carries_both_policies(client):
    # when anyone opens the start page
    response = client.get(reverse("start"))
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert_strict(response)


def test_json_from_the_api_carries_both_policies(staff_client, organisation, client):
    # given a call from a staff member, and one from nobody
    answered = staff_client.get(reverse("api:survey_list", args=[organisation.slug]))
    refused = client.get(reverse("api:survey_list", args=[organisation.slug]))
    # then both, JSON (a refusal as RFC 9457 problem details), carry the policies
    assert answered.status_code == 200 and refused.status_code in (401, 403)
    assert answered["Content-Type"].startswith("application/json")
    assert refused["Content-Type"].startswith("application/problem+json")
    for response in (answered, refused):
        assert_strict(response)


def test_the_kiosk_service_worker_carries_both_policies(client, organisation, survey):
    # given a registered kiosk
    kiosk = kiosk_register(survey=survey, location=LocationFactory(organisation=organisation))
    # when the tablet fetches its service worker
    response = client.get(reverse("surveys:kiosk_sw", args=[kiosk.device_token]))
    # then the script runs under the same policy (its fetches are same-site: connect-src)
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    assert_strict(response)


def test_a_not_found_page_carries_both_policies(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_strict(response)


def test_a_not_found_api_answer_carries_both_policies(staff_client, organisation):
    response = staff_client.get(reverse("api:survey_detail", args=[organisation.slug, 999999]))
    assert response.status_code == 404
    assert_strict(response)


def test_another_organisations_staff_page_refused_carries_both_policies(
    staff_client, other_organisation
):
    response = staff_client.get(reverse("staff:survey_list", args=[other_organisation.slug]))
    assert response.status_code == 404
    assert_strict(response)


def test_a_form_over_the_size_limit_gets_its_error_page_with_both_policies(client, survey):
    # given a form with more fields than Django takes (its bare 400, made a page)
    fields = {f"f{n}": "x" for n in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 5)}
    # when it is posted to the survey
    response = client.post(reverse("surveys:survey_respond", args=[survey.public_id]), fields)
    # then the refusal page carries the policies
    assert response.status_code == 400
    assert_strict(response)


def test_a_request_for_an_unknown_host_is_refused_with_both_policies(client):
    response = client.get(reverse("start"), HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert_strict(response)


def _boom(request: HttpRequest):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", _boom)]


def test_a_server_error_page_carries_both_policies(settings):
    # given a view with a bug (this module is the URLconf)
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    # when it is requested
    response = client.get("/boom/")
    # then the 500 page carries the policies
    assert response.status_code == 500
    assert_strict(response)


def test_the_admin_sign_in_page_carries_both_policies(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert_strict(response)


# --- the brand colour's nonce ---------------------------------------------------------------


def test_a_branded_page_lets_in_only_its_own_style_block_by_nonce(client):
    # given a community with its own colour
    organisation = OrganisationFactory(slug="brand-org")
    community = CommunityFactory(organisation=organisation, brand_colour="#aa3300")
    url = reverse("surveys:community_home", args=[organisation.slug, community.slug])
    # when its page is opened twice
    first, second = client.get(url), client.get(url)
    # then each response names one nonce, which is the one on its <style> block
    nonces = []
    for response in (first, second):
        (source,) = [s for s in directives(response)["style-src"] if s.startswith("'nonce-")]
        nonce = source.removeprefix("'nonce-").removesuffix("'")
        html = response.content.decode()
        assert f'<style nonce="{nonce}">' in html
        assert "--chorus-brand: #aa3300;" in html
        assert "style=" not in html.replace("<style nonce=", "")
        nonces.append(nonce)
    # and a fresh nonce on every response
    assert nonces[0] != nonces[1]


def test_a_page_without_inline_css_names_no_nonce(client):
    response = client.get(reverse("account_login"))
    assert directives(response)["style-src"] == ["'self'"]


# --- the header values ----------------------------------------------------------------------


def test_permissions_policy_lists_each_feature_and_its_allowlist():
    assert (
        permissions_policy({"camera": [], "fullscreen": ["self"], "payment": ["https://a.test"]})
        == 'camera=(), fullscreen=(self), payment=("https://a.test")'
    )
    assert permissions_policy({}) == ""


def test_a_report_address_from_the_environment_is_added_to_the_policy():
    # given CSP_REPORT_URI in the environment
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings as s;"
        "print(s.CONTENT_SECURITY_POLICY['DIRECTIVES'].get('report-uri'))",
        DEBUG="true",
        CSP_REPORT_URI="https://reports.example.com/csp",
    )
    # then browsers are told where to report what they block
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['https://reports.example.com/csp']"


# --- templates keep to the policy ------------------------------------------------------------

# Emails are read in mail clients, never served as pages: they keep their inline styles.
EMAIL_TEMPLATES = ("emails/", "account/email/")
INLINE = {
    "an inline <script>": re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
    ),
    "an on…= handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "a style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
}


def test_no_served_template_holds_inline_script_handlers_or_style_attributes():
    # given every template a page is made of
    pages = [
        p
        for p in TEMPLATES.rglob("*.html")
        # An app's own emails sit in an emails/ folder of its templates too.
        if not p.relative_to(TEMPLATES).as_posix().startswith(EMAIL_TEMPLATES)
        and "emails" not in p.relative_to(TEMPLATES).parts
    ]
    assert len(pages) > 50
    # then none holds what the policy refuses
    found = [
        f"{p.relative_to(TEMPLATES)}: {what}: {match.group(0)[:80]}"
        for p in pages
        for what, pattern in INLINE.items()
        for match in pattern.finditer(p.read_text(encoding="utf-8"))
    ]
    assert not found, "\n".join(found)
