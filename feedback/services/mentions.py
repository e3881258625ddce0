"""@mentions in a case's notes: who a note names, and the email that tells them."""

from __future__ import annotations

import re

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from communities.models import User
from communities.outbox.services import outbox_write
from feedback.models import Case, CaseEvent

# How much of a note the email to someone it mentions quotes; the case page has the rest.
MENTION_EXCERPT = 1_000


def note_mentions(*, body: str, staff: list[User]) -> list[tuple[User, str]]:
    """The staff a note @mentions, each with the words that mentioned them first.

    A mention is "@" and a staff member's email address or name, matched without regard to
    case and not running on into more letters ("@Kim" is not "@Kimberly"); the longest
    match wins, so "@Kim Lee" names Kim Lee, not a colleague called Kim. A name two of
    the staff share names neither of them (their addresses still do).
    """
    by_text: dict[str, User | None] = {}
    for user in staff:
        by_text[user.email.casefold()] = user
        name = " ".join((user.name or "").split()).casefold()
        if name:
            by_text[name] = None if name in by_text and by_text[name] != user else user
    candidates = sorted((text for text, user in by_text.items() if user), key=len, reverse=True)
    if not candidates or "@" not in body:
        return []
    pattern = re.compile(
        r"(?<![\w@])@(" + "|".join(re.escape(c) for c in candidates) + r")(?![\w@-])(?!\.\w)",
        re.IGNORECASE,
    )
    found: dict[int, tuple[User, str]] = {}
    for match in pattern.finditer(body):
        user = by_text[match.group(1).casefold()]
        if user is not None and user.pk not in found:
            found[user.pk] = (user, match.group(0))
    return list(found.values())


def mention_email_write(*, case: Case, event: CaseEvent, user: User, author: str) -> None:
    """Tell a mentioned colleague, in their language, through the outbox (once per note)."""
    organisation = case.organisation
    path = reverse("staff:case_detail", args=[organisation.slug, case.pk])
    body = event.data.get("body", "")
    context = {
        "organisation_name": organisation.name,
        "case_id": case.pk,
        "author": author,
        "note": body if len(body) <= MENTION_EXCERPT else body[:MENTION_EXCERPT] + "…",
        "case_url": f"{settings.SITE_URL}{path}",
    }
    language = user.locale or organisation.default_language
    base = "feedback/emails/case_mention"
    with translation.override(language):
        subject = render_to_string(f"{base}_subject.txt", context, using="text")
        text = render_to_string(f"{base}_body.txt", context, using="text")
        html = render_to_string(f"{base}_body.html", context)
    outbox_write(
        idempotency_key=f"case-mention:{event.pk}:user:{user.pk}",
        organisation=organisation,
        to_email=user.email,
        template="case_mention",
        context=context,
        language=language,
        subject=" ".join(subject.strip().splitlines()),
        body_text=text,
        body_html=html,
        headers={},
    )
