from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Organisation, TimeStampedModel
from feedback.choices import Condition


class FollowUpRule(TimeStampedModel):
    """A condition on an answer and what to do when it holds.

    A survey's own rules win over its organisation's; with neither, the default rules
    (NPS ≤ 6, stars ≤ 2, sentiment < −0.3) apply.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="followup_rules"
    )
    survey = models.ForeignKey(
        "surveys.Survey",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followup_rules",
    )
    condition = models.CharField(_("condition"), max_length=20, choices=Condition.choices)
    threshold = models.FloatField(_("threshold"), null=True, blank=True)
    choice = models.ForeignKey(
        "surveys.Choice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email_respondent = models.BooleanField(_("email the respondent"), default=True)
    alert_staff = models.BooleanField(_("alert staff"), default=False)
    open_case = models.BooleanField(_("open a case"), default=True)
    active = models.BooleanField(default=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(condition__in=Condition.values), name="rule_condition_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(condition=Condition.CHOICE_SELECTED, choice__isnull=False)
                | (
                    ~models.Q(condition=Condition.CHOICE_SELECTED)
                    & models.Q(threshold__isnull=False)
                ),
                name="rule_has_its_operand",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.condition} {self.threshold if self.choice_id is None else self.choice_id}"
