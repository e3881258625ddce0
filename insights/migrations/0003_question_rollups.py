"""Per-question roll-ups (choice shares and score distributions per survey × day × channel ×
store × language, and per month)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0015_outbox_send_path"),
        ("insights", "0002_notifications"),
        ("surveys", "0009_hot_path"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupAnswer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("submitted_on", models.DateField()),
                ("language", models.CharField(max_length=8)),
                ("value", models.SmallIntegerField(blank=True, null=True)),
                ("count", models.PositiveIntegerField(default=0)),
                ("month", models.BooleanField(default=False)),
                (
                    "channel",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="surveys.channel",
                    ),
                ),
                (
                    "choice",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="surveys.choice",
                    ),
                ),
                (
                    "location",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="communities.location",
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
                    "question",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="surveys.question",
                    ),
                ),
                (
                    "survey",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="surveys.survey",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["survey", "month", "submitted_on"],
                        name="rollup_answer_survey_day",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("value__isnull", True), ("choice__isnull", True), _connector="OR"
                        ),
                        name="rollup_answer_value_or_choice",
                    )
                ],
            },
        ),
    ]
