"""Notification preferences, threshold alerts per store and the weekly report schedule."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0014_outbox_batches"),
        ("insights", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NotificationPreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "case_assigned",
                    models.BooleanField(default=True, verbose_name="a case is assigned to me"),
                ),
                (
                    "case_overdue",
                    models.BooleanField(default=True, verbose_name="a case of mine is overdue"),
                ),
                (
                    "digest",
                    models.CharField(
                        choices=[
                            ("none", "No digest"),
                            ("daily", "Daily"),
                            ("weekly", "Weekly (on Mondays)"),
                        ],
                        default="none",
                        max_length=8,
                        verbose_name="digest",
                    ),
                ),
                (
                    "scheduled_report",
                    models.BooleanField(
                        default=True,
                        verbose_name="the weekly report, when I am one of its recipients",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="communities.organisation",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_prefs",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organisation", "user"), name="notificationpref_one_per_user"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("digest__in", ["none", "daily", "weekly"])),
                        name="notificationpref_digest_valid",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ReportSchedule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "active",
                    models.BooleanField(default=True, verbose_name="send the weekly report"),
                ),
                (
                    "weekday",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "Monday"),
                            (1, "Tuesday"),
                            (2, "Wednesday"),
                            (3, "Thursday"),
                            (4, "Friday"),
                            (5, "Saturday"),
                            (6, "Sunday"),
                        ],
                        default=0,
                        verbose_name="day",
                    ),
                ),
                (
                    "hour",
                    models.PositiveSmallIntegerField(
                        default=8,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(23),
                        ],
                        verbose_name="hour (organisation's time zone)",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="communities.organisation",
                    ),
                ),
                (
                    "recipients",
                    models.ManyToManyField(
                        blank=True,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recipients",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organisation",), name="reportschedule_one_per_org"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("weekday__gte", 0), ("weekday__lte", 6)),
                        name="reportschedule_weekday_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("hour__gte", 0), ("hour__lte", 23)),
                        name="reportschedule_hour_range",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ThresholdAlert",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "threshold",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(1000),
                        ],
                        verbose_name="more than this many negative answers",
                    ),
                ),
                (
                    "window_minutes",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (15, 15),
                            (30, 30),
                            (60, 60),
                            (120, 120),
                            (240, 240),
                            (1440, 1440),
                        ],
                        default=60,
                        verbose_name="within",
                    ),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("last_alerted_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "location",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="communities.location",
                        verbose_name="store",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="communities.organisation",
                    ),
                ),
                (
                    "recipients",
                    models.ManyToManyField(
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="email these staff",
                    ),
                ),
            ],
            options={
                "ordering": ["location__name"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organisation", "location"), name="thresholdalert_one_per_store"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("threshold__gte", 1), ("threshold__lte", 1000)),
                        name="thresholdalert_threshold_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("window_minutes__in", (15, 30, 60, 120, 240, 1440))),
                        name="thresholdalert_window_valid",
                    ),
                ],
            },
        ),
    ]
