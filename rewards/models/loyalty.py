"""Earning rules, expiry policy, tiers and badges of a community."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Community, Member, Organisation, TimeStampedModel
from rewards.choices import BadgeKind, ExpiryNoticeKind, TierBasis


class RewardsPolicy(TimeStampedModel):
    """A community's earning rules and expiry policy; a community without one earns
    only what each survey and poll offers, and its points never expire."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, related_name="rewards_policy"
    )
    join_points = models.PositiveIntegerField(_("welcome points on joining"), default=0)
    profile_points = models.PositiveIntegerField(_("points for completing the profile"), default=0)
    referral_points = models.PositiveIntegerField(
        _("points for referring a member who confirms"), default=0
    )
    # Polls that offer no points of their own earn this many for a vote.
    poll_points = models.PositiveIntegerField(_("points for voting in a poll"), default=0)
    # Points expire this many months after the member's last activity; empty: never.
    expiry_months = models.PositiveSmallIntegerField(
        _("months of inactivity until points expire"), null=True, blank=True
    )
    warning_days = models.PositiveSmallIntegerField(
        _("days before expiry to send a warning"), default=30
    )
    last_chance_days = models.PositiveSmallIntegerField(
        _("days before expiry to send a last-chance email"), default=7
    )
    tier_basis = models.CharField(
        _("tiers count"), max_length=16, choices=TierBasis.choices, default=TierBasis.LIFETIME
    )
    tier_window_months = models.PositiveSmallIntegerField(_("months counted for tiers"), default=12)

    objects = TenantManager()

    class Meta:
        verbose_name_plural = "rewards policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expiry_months__isnull=True) | models.Q(expiry_months__gt=0),
                name="rewards_policy_expiry_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(tier_window_months__gt=0), name="rewards_policy_window_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} rewards policy"


class Tier(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="tiers")
    # {"en": "Gold", "th": "…", …}; the organisation's default language is required.
    names = models.JSONField(_("name"), default=dict)
    threshold = models.PositiveIntegerField(_("points earned to reach it"))
    # Perk: a discount on every reward's cost for members of this tier.
    discount_percent = models.PositiveSmallIntegerField(_("discount on rewards (%)"), default=0)

    objects = TenantManager()

    class Meta:
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "threshold"], name="tier_threshold_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__lte=90), name="tier_discount_at_most_90"
            ),
        ]

    def __str__(self) -> str:
        return self.name_in("en")

    def name_in(self, language: str) -> str:
        return self.names.get(language) or next(iter(self.names.values()), "")


class MemberStanding(models.Model):
    """A member's tier and the points that put them there, computed by a task."""

    member = models.OneToOneField(
        Member, primary_key=True, on_delete=models.CASCADE, related_name="standing"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL)
    points_counted = models.IntegerField(default=0)
    computed_at = models.DateTimeField()

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.member_id}: {self.points_counted}"


class MemberBadge(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="badges")
    kind = models.CharField(_("badge"), max_length=24, choices=BadgeKind.choices)
    awarded_at = models.DateTimeField()

    objects = TenantManager()

    class Meta:
        ordering = ["awarded_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["member", "kind"], name="member_badge_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.kind}"


class ExpiryNotice(models.Model):
    """A warning or last-chance email sent for one expiry date; never sent twice."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ExpiryNoticeKind.choices)
    expires_on = models.DateField()
    points = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind", "expires_on"], name="expiry_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.kind} {self.expires_on}"
