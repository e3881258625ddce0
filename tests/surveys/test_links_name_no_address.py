"""No link Chorus emails to a member names their address, in any encoding: links end up in
access logs, proxies and browser history. Every member email is rendered for one
recognisable address and every URL in it (text, HTML and headers) is searched for the
address: as it is, URL-encoded, base64 and URL-safe base64 of it alone or of anything
holding it (a JSON payload, a list), and inside every piece that decodes (compressed too)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import zlib
from datetime import timedelta
from urllib.parse import quote, unquote_plus

import pytest
from django.utils import timezone

from communities.choices import ConsentPurpose, JoinMode, MemberStatus
from communities.flows import member_invite, member_join
from communities.links import link_make
from communities.models import Member
from communities.outbox.models import OutboundEmail
from surveys.services import invitation_batch_create, reminders_send, response_submit
from tests.factories.communities import ConsentRecordFactory, MemberFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db

ADDRESS = "zed.unique@example.com"
URL = re.compile(r"https?://[^\s<>\"']+")


def _base64_forms(data: bytes) -> set[str]:
    """What base64 of any blob holding `data` must contain, whatever its offset: for each
    of the three alignments, the characters that depend on `data` alone."""
    forms = set()
    for skip in range(3):
        tail = data[skip:]
        whole = len(tail) // 3 * 4
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.add(encode(tail).decode()[:whole])
    return forms


NEEDLES = {
    ADDRESS,
    quote(ADDRESS),
    quote(ADDRESS, safe=""),
    *_base64_forms(ADDRESS.encode()),
    *_base64_forms(f'"{ADDRESS}"'.encode()),
}


def _decoded_pieces(url: str) -> list[bytes]:
    """Every piece of the URL that decodes as base64 (padded or not), and, where that
    decodes as zlib (Django's compressed signed payloads), the decompressed bytes."""
    found = []
    for piece in re.split(r"[/:?&=#.]", unquote_plus(url)):
        if len(piece) < 8:
            continue
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            try:
                raw = decode(piece + "=" * (-len(piece) % 4))
            except (binascii.Error, ValueError):
                continue
            found.append(raw)
            with contextlib.suppress(zlib.error):
                found.append(zlib.decompress(raw))
    return found


def names_the_address(url: str) -> bool:
    plain = unquote_plus(url)
    if any(needle in url or needle in plain for needle in NEEDLES):
        return True
    return any(ADDRESS.encode() in raw for raw in _decoded_pieces(url))


def urls_of(email: OutboundEmail) -> list[str]:
    text = "\n".join([email.body_text, email.body_html, *map(str, email.headers.values())])
    return URL.findall(text)


def test_the_check_catches_the_links_chorus_used_to_send():
    # The unsubscribe and confirmation links as they were signed before tokens.
    old_unsubscribe = link_make("unsubscribe", [7, ADDRESS])
    old_confirm = link_make("member_confirm", {"m": 12, "e": ADDRESS, "r": 1, "k": 0})
    long_confirm = link_make("member_confirm", {"m": 12, "e": ADDRESS, "pad": "a" * 200})
    for token in (old_unsubscribe, old_confirm, long_confirm):
        assert names_the_address(f"https://chorus.example.com/x/{token}/")
    assert names_the_address(f"https://chorus.example.com/?e={quote(ADDRESS)}")
    assert not names_the_address("https://chorus.example.com/u/abcDEF123_-xyz/")


def _emails_for_the_address(community, survey, callbacks) -> dict[str, OutboundEmail]:
    organisation = community.organisation
    with callbacks(execute=True):
        # join confirmation
        member_join(community=community, email=ADDRESS, name="Zed", terms_accepted=True)
        # already a member (they confirmed, then filled the join form again)
        member = Member.objects.get(community=community, email=ADDRESS)
        member.status = MemberStatus.ACTIVE
        member.save()
        member_join(community=community, email=ADDRESS, terms_accepted=True)
        # invitation to join, to a closed community of the same organisation
        closed = type(community).objects.create(
            organisation=organisation, name="Closed", slug="closed", join_mode=JoinMode.INVITE_ONLY
        )
        member_invite(community=closed, email=ADDRESS, name="Zed")
        # survey invitation, then its reminder
        survey.reminder_limit, survey.reminder_interval_days = 1, 1
        survey.save()
        invitation_batch_create(survey=survey, recipients=[(ADDRESS, "Zed")])
    with callbacks(execute=True):
        reminders_send(now=timezone.now() + timedelta(days=2))
    with callbacks(execute=True):
        # follow-up of a detractor's answer, from a member who agreed to be contacted
        ConsentRecordFactory(member=member, purpose=ConsentPurpose.CONTACT_FOLLOWUP)
        data = answers_for(survey, nps=1, stars=1)
        key = data.pop("idempotency_key")
        response_submit(
            survey=survey,
            raw_answers=data,
            idempotency_key=key,
            member=member,
            consent_to_contact=True,
        )
    emails = {}
    for email in OutboundEmail.objects.filter(to_email=ADDRESS).order_by("pk"):
        name = email.template
        if email.template == "invitation" and email.idempotency_key.endswith(":1"):
            name = "reminder"
        emails[name] = email
    return emails


def test_no_link_in_any_member_email_names_the_address(
    community, survey, settings, django_capture_on_commit_callbacks
):
    # given: every email Chorus sends a member, written for one recognisable address
    settings.SITE_URL = "https://chorus.example.com"
    MemberFactory(community=community)  # someone else, so ids are not all 1
    emails = _emails_for_the_address(community, survey, django_capture_on_commit_callbacks)
    assert set(emails) >= {
        "join_confirm",
        "already_member",
        "member_invitation",
        "invitation",
        "reminder",
        "followup",
    }
    # then: every URL they carry, in either part or a header, names no address
    for name, email in emails.items():
        urls = urls_of(email)
        assert urls, name
        assert any("/u/" in url for url in urls), name  # the unsubscribe link is there
        leaking = [url for url in urls if names_the_address(url)]
        assert leaking == [], name
