from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Organisation, TimeStampedModel
from feedback.choices import RuleAlert, RuleMatch


class FollowUpRule(TimeStampedModel):
    """One of an organisation's follow-up rules, applied in `position` order to each response.

    The rule holds for a response in its scope when all (or any, `match`) of its conditions
    hold; it then does what its actions say and, with `stop`, the later rules are skipped
    (like a mail filter). Scope, conditions and actions are JSON whose shape is checked by
    feedback.services.followup_spec (the only writer is feedback.services.followup_admin):

    - scope: {"surveys": [id], "channels": [id], "locations": [id], "segments": [id]}, an
      empty or missing list meaning "any";
    - conditions: [{"kind": "score", "score": "nps", "question": id|null, "min": n|null,
      "max": n|null}, {"kind": "choice", "choice": id}, {"kind": "sentiment", "below": x},
      {"kind": "keywords", "words": [..]}, {"kind": "segment", "segment": id},
      {"kind": "history", "is": "first"|"repeat_detractor"}];
    - actions: {"case": {"priority": "", "team": id|null, "assign": "", "person": id|null}
      | null, "email": {"delay_minutes": n, "templates": {lang: {"subject", "body"}}} | null,
      "alert": ""|"immediate"|"digest", "webhook": bool}.

    An organisation with no active rule for a survey has the default rules (NPS ≤ 6,
    stars ≤ 2, sentiment < −0.3; feedback.services.followup.DEFAULT_RULES).
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="followup_rules"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    match = models.CharField(
        _("holds when"), max_length=3, choices=RuleMatch.choices, default=RuleMatch.ALL
    )
    scope = models.JSONField(_("scope"), default=dict, blank=True)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=dict, blank=True)
    stop = models.BooleanField(_("stop after this rule"), default=False)
    # Round-robin within the case action's team: the next member to get a case is the
    # cursor's, modulo the team's size (moved with one UPDATE per case, so two processes
    # never give the same turn twice).
    round_robin_cursor = models.PositiveIntegerField(default=0, editable=False)

    objects = TenantManager()

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["organisation", "position"], name="rule_org_position")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(match__in=RuleMatch.values), name="rule_match_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"rule {self.pk}"


class RuleAlertIntent(models.Model):
    """A rule's "alert staff in the digest": stored here for the digest builder to read (the
    immediate alert is an email in the outbox instead). One per response and rule."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(
        FollowUpRule, null=True, on_delete=models.SET_NULL, related_name="alert_intents"
    )
    response = models.ForeignKey("surveys.Response", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(
        "feedback.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mode = models.CharField(max_length=10, choices=RuleAlert.choices, default=RuleAlert.DIGEST)
    reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    digested_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "rule"], name="alert_intent_once"),
        ]
        indexes = [
            models.Index(
                fields=["organisation", "created_at"],
                condition=models.Q(digested_at__isnull=True),
                name="alert_intent_pending",
            )
        ]

    def __str__(self) -> str:
        return f"alert intent {self.pk} ({self.mode})"
