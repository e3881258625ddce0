"""Chorus's side of django-allauth: who may sign up, where people land, and the emails.

Sign-up follows settings.ACCOUNT_SIGNUP: "open" lets anyone create an account;
"invite-only" (the default) lets only someone holding an open staff invitation create
one, with the address it was sent to. Members never use this sign-up: they join through
a community's page, which makes their account.
"""

from __future__ import annotations

import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from communities.models import Member, StaffInvitation, User
from communities.outbox.models import OutboundEmail
from communities.outbox.services import outbox_write
from communities.selectors import staff_roles_of
from communities.services.language import language_supported
from communities.services.members import MEMBER_CURRENT_STATUSES

SIGNUP_OPEN = "open"
# Where DefaultAccountAdapter.stash_verified_email keeps an address a link has proven:
# the staff invitation page stashes the invited address there for a signed-out visitor.
STASHED_EMAIL_KEY = "account_verified_email"


def signup_is_open() -> bool:
    return settings.ACCOUNT_SIGNUP == SIGNUP_OPEN


def invited_email(request: HttpRequest | None) -> str | None:
    """The address of an open staff invitation this visitor opened, or None.

    Opening an invitation link proves the mailbox is the visitor's; allauth keeps that
    address in the session until an account is made with it.
    """
    session = getattr(request, "session", None)
    email = session.get(STASHED_EMAIL_KEY) if session is not None else None
    if not email:
        return None
    is_open = StaffInvitation.objects.filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).exists()
    return email if is_open else None


def email_language(request: HttpRequest | None, email: str) -> str:
    """The language of an account email: the one the person chose on the page (?lang= or
    the language switch), else the language saved on their account, else the page's
    (which then came from the browser)."""
    page = language_supported(translation.get_language()) or settings.LANGUAGE_CODE
    if request is not None and (
        language_supported(request.GET.get("lang"))
        or language_supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    ):
        return page
    saved = (
        User.objects.filter(email__iexact=email).values_list("locale", flat=True).first()
        if email
        else None
    )
    return language_supported(saved) or page


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form; it also tells the page whether to offer sign-up."""

    @property
    def signup_open(self) -> bool:
        return signup_is_open()


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form. By invitation, only the invited address may be used."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.invited_email = None if signup_is_open() else invited_email(allauth_context.request)

    def clean_email(self) -> str:
        email = super().clean_email()
        if self.invited_email and email and email.lower() != self.invited_email.lower():
            raise ValidationError(
                _("Create your account with the address your invitation was sent to: %(email)s.")
                % {"email": self.invited_email},
                code="not_invited",
            )
        return email


class AccountAdapter(DefaultAccountAdapter):
    """Applies the sign-up policy, lands people where they work, and sends allauth's
    emails (verification, password reset, sign-in code) through the outbox in the
    recipient's language."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # The lock is on the password only: the emailed code still signs the owner in.
        "too_many_login_attempts": _(
            "Too many failed attempts to sign in with a password for this address. "
            "Password sign-in is paused for a few minutes; you can sign in now with a "
            "code sent by email."
        ),
    }

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        """allauth's throttle on failed passwords, which also stops the real owner; so
        the owner is told, once per lock, and offered a sign-in code (not throttled by it)."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            self._lock_notify(request, credentials.get("email") or "")
            raise

    def _lock_notify(self, request: HttpRequest, email: str) -> None:
        user = User.objects.filter(email__iexact=email, is_active=True).first() if email else None
        if user is None:
            return
        # One warning per lock window, however many more attempts arrive in it.
        window = settings.ACCOUNT_LOGIN_LOCK_SECONDS
        bucket = int(timezone.now().timestamp() // window)
        key = f"account:login_locked:{user.pk}:{bucket}"
        if OutboundEmail.objects.filter(idempotency_key=key).exists():
            return
        self._idempotency_key = key
        try:
            self.send_mail(
                "account/email/login_locked",
                user.email,
                {
                    "user": user,
                    "attempts": settings.ACCOUNT_LOGIN_LOCK_ATTEMPTS,
                    "code_url": request.build_absolute_uri(reverse("account_request_login_code")),
                },
            )
        finally:
            self._idempotency_key = None

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Closed sign-up renders account/signup_closed.html ("sign-up is by invitation").
        return signup_is_open() or invited_email(request) is not None

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Staff (and a new account that is in no community) land on their organisations,
        a member of one community on its portal, a member of several on the start page,
        which lists them. An explicit ?next= wins (allauth checks it first)."""
        user = request.user
        if staff_roles_of(user=user):
            return reverse("staff_home")
        memberships = list(
            Member.objects.filter(user=user, status__in=MEMBER_CURRENT_STATUSES)
            .select_related("community__organisation")
            .order_by("pk")[:2]
        )
        if not memberships:
            return reverse("staff_home")
        if len(memberships) == 1:
            community = memberships[0].community
            return reverse(
                "surveys:community_home", args=[community.organisation.slug, community.slug]
            )
        return reverse("start")

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        # This sign-up is the staff one: a new account goes on to create or join an
        # organisation (an invitation's ?next= brings them back to accept it instead).
        return reverse("staff_home")

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        site = get_current_site(request)
        # Without django.contrib.sites the site is the request's host; name it as people know it.
        site.name = "Chorus"
        language = email_language(request, email)
        with translation.override(language):
            message = self.render_mail(
                template_prefix,
                email,
                {
                    "request": request,
                    "email": email,
                    "current_site": site,
                    "signup_open": signup_is_open(),
                    **context,
                },
            )
        html = next(
            (body for body, mime in getattr(message, "alternatives", []) if mime == "text/html"),
            "",
        )
        with transaction.atomic():
            outbox_write(
                organisation=None,
                to_email=email,
                template=template_prefix,
                context={},
                language=language,
                subject=message.subject,
                body_text=message.body,
                body_html=html,
                idempotency_key=getattr(self, "_idempotency_key", None)
                or f"account:{template_prefix}:{uuid.uuid4()}",
            )
