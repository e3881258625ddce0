"""Communities and their members: locations, consent, custom attributes, segments and the
addresses that asked for no more email.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.choices import (
    AttributeKind,
    ConsentChannel,
    ConsentPurpose,
    JoinMode,
    MemberStatus,
)
from communities.managers import TenantManager
from communities.models.base import TimeStampedModel, same_site_path_validator
from communities.models.organisations import Organisation, User


class Community(TimeStampedModel):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="communities"
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    join_mode = models.CharField(
        _("join mode"), max_length=16, choices=JoinMode.choices, default=JoinMode.OPEN
    )
    consent_text = models.TextField(_("consent text"), blank=True)
    privacy_policy_text = models.TextField(_("privacy policy"), blank=True)
    policy_version = models.PositiveIntegerField(_("policy version"), default=1)
    policy_published_at = models.DateTimeField(_("policy published"), default=timezone.now)
    # Branding for the member-facing pages; empty means the organisation's.
    # A path on this site (/static/…): member pages never load anything from another host.
    logo = models.CharField(
        _("logo"), max_length=200, blank=True, validators=[same_site_path_validator]
    )
    brand_colour = models.CharField(_("brand colour"), max_length=7, blank=True)
    welcome_text = models.TextField(_("welcome text on the join page"), blank=True)
    # Lifecycle thresholds: a member is "new" for new_days after joining, "lapsed" after
    # lapsed_days without activity and "churned" after churned_days.
    new_days = models.PositiveSmallIntegerField(_("days a member counts as new"), default=30)
    lapsed_days = models.PositiveSmallIntegerField(_("days inactive until lapsed"), default=90)
    churned_days = models.PositiveSmallIntegerField(_("days inactive until churned"), default=180)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "communities"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "slug"], name="community_slug_unique_per_org"
            ),
            models.CheckConstraint(
                condition=models.Q(policy_version__gte=1), name="community_policy_version_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(brand_colour="")
                | models.Q(brand_colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="community_brand_colour_hex",
            ),
            models.CheckConstraint(
                condition=models.Q(new_days__gte=1, lapsed_days__gte=1)
                & models.Q(churned_days__gt=models.F("lapsed_days")),
                name="community_lifecycle_thresholds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Location(TimeStampedModel):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="locations"
    )
    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=40)
    # The language a kiosk in this store starts in; empty means the organisation's.
    language = models.CharField(_("language"), max_length=8, blank=True)
    # The staff member case routing and store alerts name for this store.
    manager = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_locations",
        verbose_name=_("manager"),
    )
    # Archived stores keep their history and reports but take no new kiosks or answers.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="location_code_unique_per_org"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Member(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="members")
    # No index of its own: the (community, status) index leads with it, and every answer
    # updates the member's activity, so each index is one more B-tree written.
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="members", db_index=False
    )
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="memberships"
    )
    # Stored lower-cased so one person is one member per community.
    email = models.EmailField(_("email"), blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    locale = models.CharField(_("language"), max_length=8, default="en")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True)
    last_active_at = models.DateTimeField(_("last active"), null=True, blank=True)
    # Double opt-in: when the member clicked the link in the confirmation email.
    confirmed_at = models.DateTimeField(_("email confirmed"), null=True, blank=True)
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    referral_code = models.CharField(_("referral code"), max_length=16, blank=True)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "community",
                Lower("email"),
                condition=~models.Q(email=""),
                name="member_email_unique_per_community",
            ),
            models.UniqueConstraint(
                fields=["community", "user"],
                condition=models.Q(user__isnull=False),
                name="member_user_unique_per_community",
            ),
            models.UniqueConstraint(
                fields=["referral_code"],
                condition=~models.Q(referral_code=""),
                name="member_referral_code_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=MemberStatus.values), name="member_status_valid"
            ),
            # An erased member keeps no personal data.
            models.CheckConstraint(
                condition=~models.Q(status=MemberStatus.ERASED)
                | (
                    models.Q(email="", name="", phone="", user__isnull=True, referral_code="")
                    & models.Q(attributes={})
                ),
                name="member_erased_holds_no_personal_data",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "status"]),
            models.Index(fields=["community", "last_active_at"]),
        ]

    def __str__(self) -> str:
        return self.email or f"member #{self.pk}"

    @property
    def is_erased(self) -> bool:
        return self.status == MemberStatus.ERASED


class ConsentRecord(models.Model):
    """Append-only: a withdrawal is a new row, never an edit."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="consent_records"
    )
    # No index of its own: the (member, purpose, recorded_at) index leads with it.
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="consents", db_index=False
    )
    purpose = models.CharField(_("purpose"), max_length=24, choices=ConsentPurpose.choices)
    policy_version = models.PositiveIntegerField(_("policy version"))
    granted = models.BooleanField(_("granted"))
    recorded_at = models.DateTimeField(_("when"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=16, choices=ConsentChannel.choices)

    objects = TenantManager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purpose__in=ConsentPurpose.values), name="consent_purpose_valid"
            ),
        ]
        indexes = [models.Index(fields=["member", "purpose", "-recorded_at"])]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrew"
        return f"{self.member} {verb} {self.purpose} v{self.policy_version}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Consent records are append-only.")
        super().save(*args, **kwargs)


class Segment(TimeStampedModel):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="segments"
    )
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(_("name"), max_length=200)
    # {"attributes": {"city": "Bangkok"}, "status": ["active"], "active_within_days": 90}
    filter = models.JSONField(_("filter"), default=dict, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="segment_name_unique_per_community"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EmailSuppression(models.Model):
    """An address this organisation's email must not go to: the person unsubscribed, their
    mailbox does not exist (a hard bounce), or they reported our email as spam."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        COMPLAINT = "complaint", _("Spam complaint")

    class Source(models.TextChoices):
        PERSON = "person", _("The person")
        DSN = "dsn", _("Delivery-status notification")
        ARF = "arf", _("Mailbox provider's feedback loop")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(_("email"))
    reason = models.CharField(
        _("reason"), max_length=40, choices=Reason.choices, default=Reason.UNSUBSCRIBED
    )
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.PERSON
    )
    # What the report said, as data: an SMTP status ("5.1.1") or a feedback type ("abuse").
    detail = models.CharField(_("detail"), max_length=40, blank=True)
    # The email that bounced or was complained about (kept while the outbox keeps it).
    outbound_email = models.ForeignKey(
        "communities.OutboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email"], name="suppression_one_per_address"
            ),
        ]

    def __str__(self) -> str:
        return self.email


class AttributeDefinition(TimeStampedModel):
    """A custom member attribute of one community (age band, city, …); values live in
    Member.attributes under `key` and are validated against this on every write."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="attributes")
    key = models.SlugField(_("key"), max_length=40)
    # {"en": "Age band", "th": "…"}: shown to members in their language.
    label = models.JSONField(_("label"), default=dict)
    kind = models.CharField(_("kind"), max_length=8, choices=AttributeKind.choices)
    # For single choice: [{"value": "18-24", "label": {"en": "18–24"}}, …]
    options = models.JSONField(_("options"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    ask_on_join = models.BooleanField(_("ask on the join page"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = TenantManager()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "key"], name="attribute_key_unique_per_community"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=AttributeKind.values), name="attribute_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def label_text(self) -> str:
        return self.label.get("en") or next(iter(self.label.values()), self.key)
