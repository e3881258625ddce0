"""Accounts, organisations and who may do what in them: staff roles, staff invitations and
the API keys an organisation's other systems call with.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.choices import (
    Role,
)
from communities.managers import TenantManager, UserManager
from communities.models.base import TimeStampedModel


class User(AbstractBaseUser, PermissionsMixin):
    """Staff and members share one account model; email is the login."""

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    locale = models.CharField(_("language"), max_length=8, blank=True)
    is_staff = models.BooleanField(
        _("Django admin access"),
        default=False,
        help_text=_("Superuser-only cross-tenant admin; organisation staff use StaffRole."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class Organisation(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    default_language = models.CharField(_("default language"), max_length=8, default="en")
    logo = models.URLField(_("logo URL"), blank=True)
    brand_colour = models.CharField(_("brand colour"), max_length=7, default="#0d6efd")
    min_group_size = models.PositiveSmallIntegerField(_("minimum report group size"), default=5)
    contact_limit_days = models.PositiveSmallIntegerField(
        _("days between survey emails to one person"), default=30
    )
    # The limit always covers survey invitations (staff sends and API events; a reminder of
    # an invitation already counted is exempt). Follow-up emails answer what the person
    # asked about, so they are outside it unless the organisation counts them too.
    contact_limit_followups = models.BooleanField(
        _("follow-up emails count towards the contact limit"), default=False
    )
    # Anonymous answers from known respondents are released in batches of at least
    # min_group_size (and 5). A survey that never closes may otherwise hold a few forever;
    # this releases a smaller batch after so many days, at a cost in anonymity.
    anonymous_pool_max_days = models.PositiveSmallIntegerField(
        _("longest wait for anonymous answers (days)"), null=True, blank=True
    )
    # Dates on staff pages and "opens at" times are shown in this zone; an IANA name.
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # Emails to members come "from" this name at the site's sender address; replies go to
    # reply_to_email (empty: the site's sender, which usually does not read mail).
    sender_name = models.CharField(_("sender name"), max_length=100, blank=True)
    reply_to_email = models.EmailField(_("reply-to address"), blank=True)
    # Audit entries older than this are deleted by a daily task. At least a month, so a
    # slip of the keyboard cannot wipe the log; at most ten years.
    audit_retention_days = models.PositiveIntegerField(
        _("audit log retention (days)"),
        default=730,
        validators=[MinValueValidator(30), MaxValueValidator(3650)],
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(audit_retention_days__gte=30, audit_retention_days__lte=3650),
                name="organisation_audit_retention_days_range",
            ),
            models.CheckConstraint(
                condition=models.Q(brand_colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="organisation_brand_colour_hex",
            ),
            models.CheckConstraint(
                condition=models.Q(min_group_size__gte=2), name="organisation_min_group_size_gte_2"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StaffRole(TimeStampedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="staff_roles"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="staffrole_one_per_org"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="staffrole_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.role}"


class StaffInvitation(TimeStampedModel):
    """An email invitation to join an organisation's staff with a role."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="staff_invitations"
    )
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="staffinvitation_one_open_per_address",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="staffinvitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation} ({self.role})"


# The areas of the API a key's scopes name: "<area>:read" for GET, "<area>:write" for the
# other methods (a view's `api_area`). Write implies read: a key given write has both.
API_AREAS = ("surveys", "responses", "members", "rewards", "cases", "results", "webhooks")
API_ACCESS = ("read", "write")
API_SCOPES = tuple(f"{area}:{access}" for area in API_AREAS for access in API_ACCESS)


class ApiToken(models.Model):
    """A key an organisation's other systems call the API with; only its hash is kept."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # API_SCOPES values, sorted; checked by the service (a JSON list is portable).
    scopes = models.JSONField(_("scopes"), default=list, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def allows(self, scope: str) -> bool:
        """Whether the key may do what `scope` names; "<area>:write" includes the read."""
        area, _sep, access = scope.partition(":")
        return scope in self.scopes or (access == "read" and f"{area}:write" in self.scopes)
