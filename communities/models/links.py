"""The server-side half of an emailed link: the link carries a random token, this row says
what it names (communities.links)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models.communities import Member
from communities.models.organisations import Organisation


class LinkTokenKind(models.TextChoices):
    MEMBER_CONFIRM = "member_confirm", _("Join confirmation")
    MEMBER_INVITATION = "member_invitation", _("Invitation to join")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe")


class LinkToken(models.Model):
    """What one emailed link names, found by the SHA-256 of the token in its URL.

    Only the hash is kept, like an API key: whoever reads the table cannot open the
    links. The URL carries no address, so logs and browser history hold none either.
    A single-use link is used up by setting `used_at` with one conditional UPDATE. A link
    sent before these rows existed (a signed payload) is recorded here, by the hash of
    its signed text, once used, so it cannot be used twice either.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=LinkTokenKind.choices)
    # Unique by a constraint (Meta): unique=True would add a LIKE index on PostgreSQL.
    token_hash = models.CharField(max_length=64, editable=False)
    # No index of its own: the (organisation, email) index leads with it.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="link_tokens"
    )
    # The address the link was sent to: a confirmation dies when the member's changes,
    # and an unsubscribe link names an address rather than a member.
    email = models.EmailField(_("email"), blank=True)
    # Small options the link carries (a rejoin's ticked marketing box).
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [
            # Erasure finds an address's links.
            models.Index(fields=["organisation", "email"], name="linktoken_org_email"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], name="linktoken_token_hash"),
            models.CheckConstraint(
                condition=models.Q(kind__in=LinkTokenKind.values), name="linktoken_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} link #{self.pk}"
