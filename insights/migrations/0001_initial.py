import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("communities", "0014_outbox_batches"),
        ("surveys", "0007_exports"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("watermark", models.BigIntegerField(default=0)),
                ("pending", models.JSONField(blank=True, default=list)),
                ("dirty", models.JSONField(blank=True, default=list)),
                ("folded_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="RollupBucket",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("submitted_on", models.DateField()),
                ("language", models.CharField(max_length=8)),
                ("responses", models.PositiveIntegerField(default=0)),
                ("nps_answers", models.PositiveIntegerField(default=0)),
                ("nps_promoters", models.PositiveIntegerField(default=0)),
                ("nps_detractors", models.PositiveIntegerField(default=0)),
                ("csat_answers", models.PositiveIntegerField(default=0)),
                ("csat_satisfied", models.PositiveIntegerField(default=0)),
                ("csat_sum", models.BigIntegerField(default=0)),
                ("stars_answers", models.PositiveIntegerField(default=0)),
                ("stars_sum", models.BigIntegerField(default=0)),
                ("stars_1", models.PositiveIntegerField(default=0)),
                ("stars_2", models.PositiveIntegerField(default=0)),
                ("stars_3", models.PositiveIntegerField(default=0)),
                ("stars_4", models.PositiveIntegerField(default=0)),
                ("stars_5", models.PositiveIntegerField(default=0)),
                ("rating_answers", models.PositiveIntegerField(default=0)),
                ("rating_sum", models.BigIntegerField(default=0)),
                ("sentiment_scored", models.PositiveIntegerField(default=0)),
                ("sentiment_negative", models.PositiveIntegerField(default=0)),
                ("sentiment_positive", models.PositiveIntegerField(default=0)),
                ("sentiment_sum", models.FloatField(default=0)),
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
                    models.Index(fields=["organisation", "submitted_on"], name="rollup_org_day"),
                    models.Index(fields=["survey", "submitted_on"], name="rollup_survey_day"),
                ],
            },
        ),
        migrations.CreateModel(
            name="RollupMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("submitted_on", models.DateField()),
                ("language", models.CharField(max_length=8)),
                ("responses", models.PositiveIntegerField(default=0)),
                ("nps_answers", models.PositiveIntegerField(default=0)),
                ("nps_promoters", models.PositiveIntegerField(default=0)),
                ("nps_detractors", models.PositiveIntegerField(default=0)),
                ("csat_answers", models.PositiveIntegerField(default=0)),
                ("csat_satisfied", models.PositiveIntegerField(default=0)),
                ("csat_sum", models.BigIntegerField(default=0)),
                ("stars_answers", models.PositiveIntegerField(default=0)),
                ("stars_sum", models.BigIntegerField(default=0)),
                ("stars_1", models.PositiveIntegerField(default=0)),
                ("stars_2", models.PositiveIntegerField(default=0)),
                ("stars_3", models.PositiveIntegerField(default=0)),
                ("stars_4", models.PositiveIntegerField(default=0)),
                ("stars_5", models.PositiveIntegerField(default=0)),
                ("rating_answers", models.PositiveIntegerField(default=0)),
                ("rating_sum", models.BigIntegerField(default=0)),
                ("sentiment_scored", models.PositiveIntegerField(default=0)),
                ("sentiment_negative", models.PositiveIntegerField(default=0)),
                ("sentiment_positive", models.PositiveIntegerField(default=0)),
                ("sentiment_sum", models.FloatField(default=0)),
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
                    models.Index(fields=["organisation", "submitted_on"], name="rollup_org_month"),
                    models.Index(fields=["survey", "submitted_on"], name="rollup_survey_month"),
                ],
            },
        ),
    ]
