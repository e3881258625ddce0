"""Who hears about what, by email: each staff member's own preferences, the threshold
alerts per store and the weekly report, both set by owners and admins.

No "already sent" table: every email these send has an outbox idempotency key naming what
it is about (the case and assignment, the alert and its window, the digest's or report's
period), and the outbox's unique key is the record that it went.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.managers import TenantManager
from communities.models import Location, Organisation, TimeStampedModel


class DigestFrequency(models.TextChoices):
    NONE = "none", _("No digest")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly (on Mondays)")


class Weekday(models.IntegerChoices):
    # Python's weekday(): Monday is 0.
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


ALERT_WINDOWS = (15, 30, 60, 120, 240, 1440)


class NotificationPreference(TimeStampedModel):
    """One staff member's choices in one organisation; no row means the defaults."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    case_assigned = models.BooleanField(_("a case is assigned to me"), default=True)
    case_overdue = models.BooleanField(_("a case of mine is overdue"), default=True)
    digest = models.CharField(
        _("digest"), max_length=8, choices=DigestFrequency.choices, default=DigestFrequency.NONE
    )
    scheduled_report = models.BooleanField(
        _("the weekly report, when I am one of its recipients"), default=True
    )

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="notificationpref_one_per_user"
            ),
            models.CheckConstraint(
                condition=models.Q(digest__in=DigestFrequency.values),
                name="notificationpref_digest_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation}"


class ThresholdAlert(TimeStampedModel):
    """ "More than `threshold` negative answers in `window_minutes` at a store" emails the
    recipients, at most once per window (HappyOrNot-style)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="+", verbose_name=_("store")
    )
    threshold = models.PositiveSmallIntegerField(
        _("more than this many negative answers"),
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )
    window_minutes = models.PositiveSmallIntegerField(
        _("within"), choices=[(m, m) for m in ALERT_WINDOWS], default=60
    )
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("email these staff")
    )
    active = models.BooleanField(_("active"), default=True)
    # The last alert's time: the next may go once a whole window has passed since.
    last_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TenantManager()

    class Meta:
        ordering = ["location__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "location"], name="thresholdalert_one_per_store"
            ),
            models.CheckConstraint(
                condition=models.Q(threshold__gte=1, threshold__lte=1000),
                name="thresholdalert_threshold_range",
            ),
            models.CheckConstraint(
                condition=models.Q(window_minutes__in=ALERT_WINDOWS),
                name="thresholdalert_window_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"> {self.threshold} in {self.window_minutes} min at {self.location}"


class ReportSchedule(TimeStampedModel):
    """The organisation's weekly report: to whom, on which day and hour of its time zone."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(_("send the weekly report"), default=True)
    weekday = models.PositiveSmallIntegerField(
        _("day"), choices=Weekday.choices, default=Weekday.MONDAY
    )
    hour = models.PositiveSmallIntegerField(
        _("hour (organisation's time zone)"),
        default=8,
        validators=[MinValueValidator(0), MaxValueValidator(23)],
    )
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("recipients"), blank=True
    )

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="reportschedule_one_per_org"),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6),
                name="reportschedule_weekday_range",
            ),
            models.CheckConstraint(
                condition=models.Q(hour__gte=0, hour__lte=23), name="reportschedule_hour_range"
            ),
        ]

    def __str__(self) -> str:
        return f"weekly report · {self.organisation}"
