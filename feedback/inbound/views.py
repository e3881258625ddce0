"""The reply link page: a customer answers their case from a link in our email, without
signing in. The signed token in the URL is the authority; it can only add a reply to the
case it names, never read anything back."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views import View

from config.ratelimit import client_ip, rate_limited
from feedback.inbound.addresses import ReplyTokenInvalid, reply_token_read
from feedback.inbound.forms import ReplyForm
from feedback.inbound.services import SOURCE_LINK, reply_receive
from feedback.models import Case

TEMPLATE = "feedback/inbound/reply.html"

logger = logging.getLogger(__name__)


class ReplyView(View):
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            case_id, organisation_id = reply_token_read(kwargs["token"])
        except ReplyTokenInvalid as refused:
            logger.warning("inbound: reply link refused (%s)", refused.code)
            return self._page(request, {"invalid": True}, status=400)
        self.case = (
            Case.objects.select_related("organisation", "response")
            .filter(pk=case_id, organisation_id=organisation_id)
            .first()
        )
        if self.case is None:
            logger.warning("inbound: reply link refused (cross_organisation or unknown_case)")
            return self._page(request, {"invalid": True}, status=400)
        # The customer reads the page in the language they answered the survey in.
        language = self.case.response.language
        if language not in dict(settings.LANGUAGES):
            language = self.case.organisation.default_language
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self._page(request, {"form": ReplyForm()})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        if rate_limited(
            scope="inbound-reply-ip",
            key=client_ip(request),
            limit=settings.INBOUND_LINK_REPLIES_PER_HOUR,
            window=3600,
        ) or rate_limited(
            scope="inbound-reply-case",
            key=str(self.case.pk),
            limit=settings.INBOUND_LINK_REPLIES_PER_HOUR,
            window=3600,
        ):
            return self._page(request, {"limited": True}, status=429)
        form = ReplyForm(request.POST)
        if not form.is_valid():
            return self._page(request, {"form": form}, status=400)
        try:
            reply_receive(
                token=token,
                text=form.cleaned_data["body"],
                source=SOURCE_LINK,
                message_id=f"<link-{form.cleaned_data['nonce']}@inbound>",
            )
        except ReplyTokenInvalid:
            return self._page(request, {"invalid": True}, status=400)
        return self._page(request, {"sent": True})

    def _page(self, request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
        case = getattr(self, "case", None)
        context = {
            **context,
            "organisation": case.organisation if case else None,
            "max_chars": settings.INBOUND_MAX_REPLY_CHARS,
        }
        page = render(request, TEMPLATE, context, status=status)
        # The token must not travel to another site as a Referer, nor the page be cached or
        # indexed. Not "no-referrer": with it a browser sends "Origin: null" on the form's
        # POST, and Django's CSRF check (rightly) refuses that.
        page["Referrer-Policy"] = "same-origin"
        page["Cache-Control"] = "no-store"
        page["X-Robots-Tag"] = "noindex"
        return page
