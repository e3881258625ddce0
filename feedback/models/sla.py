"""What an organisation promises its customers: when its support team works (business
hours, in the organisation's time zone), how soon a case of each priority gets a first
response and a resolution, and the root causes it files resolved cases under."""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Organisation, TimeStampedModel
from feedback.choices import CasePriority

# A week's minutes bound every SLA target: a longer promise is a typo, not a policy.
SLA_MAX_MINUTES = 60 * 24 * 7 * 4


class BusinessHours(TimeStampedModel):
    """The hours the organisation's team works cases, the same on each working day; SLA
    clocks run only inside them. Without a row, Monday to Friday 09:00–17:00."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="business_hours"
    )
    # ISO weekdays, 1 (Monday) to 7 (Sunday).
    days = models.JSONField(_("working days"), default=list)
    opens = models.TimeField(_("opens at"), default=dt.time(9, 0))
    closes = models.TimeField(_("closes at"), default=dt.time(17, 0))

    objects = TenantManager()

    class Meta:
        verbose_name_plural = _("business hours")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")),
                name="business_hours_open_before_close",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.days} {self.opens:%H:%M}–{self.closes:%H:%M}"


class SlaPolicy(TimeStampedModel):
    """How many business minutes a case of one priority may wait for its first response
    and for its resolution. A priority without a row uses settings.CASES_SLA_DEFAULTS."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="sla_policies"
    )
    priority = models.CharField(_("priority"), max_length=8, choices=CasePriority.choices)
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (business minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(SLA_MAX_MINUTES)],
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (business minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(SLA_MAX_MINUTES)],
    )

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "priority"], name="sla_policy_one_per_priority"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__in=CasePriority.values), name="sla_priority_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(first_response_minutes__gte=1)
                & models.Q(first_response_minutes__lte=models.F("resolution_minutes")),
                name="sla_response_before_resolution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.priority}: {self.first_response_minutes}/{self.resolution_minutes} min"


class RootCause(TimeStampedModel):
    """One of the organisation's own reasons a customer was let down ("late delivery",
    "rude staff"); resolving a case names one. Retired causes stay on the cases filed
    under them but are no longer offered."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="root_causes"
    )
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("offered when resolving"), default=True)

    objects = TenantManager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="root_cause_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name
