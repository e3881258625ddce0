"""Follow-up rules v2: ordered, named, scoped rules whose conditions and actions are JSON
(see feedback.models.rules), and the digest alerts they leave for the digest builder.

Each first-release rule (one condition, on/off actions, optionally one survey) becomes a
rule of the new shape doing the same: "stars at most" there also held for CSAT faces,
so it becomes two score conditions joined by "any". The reverse keeps what fits the old
shape (a rule's first condition and its actions).
"""

import django.db.models.deletion
from django.db import migrations, models


def _legacy_to_v2(apps, schema_editor):
    FollowUpRule = apps.get_model("feedback", "FollowUpRule")
    for position, rule in enumerate(FollowUpRule.objects.order_by("organisation_id", "pk")):
        threshold = rule.threshold
        if threshold is not None and float(threshold).is_integer():
            threshold = int(threshold)
        if rule.condition == "nps_at_most":
            conditions = [
                {"kind": "score", "score": "nps", "question": None, "min": None, "max": threshold}
            ]
        elif rule.condition == "stars_at_most":
            conditions = [
                {"kind": "score", "score": score, "question": None, "min": None, "max": threshold}
                for score in ("star", "csat")
            ]
        elif rule.condition == "sentiment_below":
            conditions = [{"kind": "sentiment", "below": rule.threshold}]
        else:
            conditions = [{"kind": "choice", "choice": rule.choice_id}]
        rule.conditions = conditions
        rule.match = "any"
        rule.scope = {"surveys": [rule.survey_id]} if rule.survey_id else {}
        rule.actions = {
            "case": {"priority": "", "team": None, "assign": "", "person": None}
            if rule.open_case
            else None,
            "email": {"delay_minutes": 0, "templates": {}} if rule.email_respondent else None,
            "alert": "immediate" if rule.alert_staff else "",
            "webhook": False,
        }
        # A survey's own rules were held before its organisation's.
        rule.position = position if rule.survey_id else position + 100_000
        rule.save(update_fields=["conditions", "match", "scope", "actions", "position"])


def _v2_to_legacy(apps, schema_editor):
    FollowUpRule = apps.get_model("feedback", "FollowUpRule")
    kinds = {"nps": "nps_at_most", "star": "stars_at_most", "csat": "stars_at_most"}
    for rule in FollowUpRule.objects.all():
        first = (rule.conditions or [{}])[0]
        kind = first.get("kind")
        if kind == "score" and first.get("score") in kinds and first.get("max") is not None:
            rule.condition, rule.threshold = kinds[first["score"]], first["max"]
        elif kind == "sentiment":
            rule.condition, rule.threshold = "sentiment_below", first["below"]
        elif kind == "choice":
            rule.condition, rule.choice_id = "choice_selected", first["choice"]
        else:
            rule.delete()
            continue
        actions = rule.actions or {}
        rule.open_case = bool(actions.get("case"))
        rule.email_respondent = bool(actions.get("email"))
        rule.alert_staff = bool(actions.get("alert"))
        surveys = (rule.scope or {}).get("surveys") or []
        rule.survey_id = surveys[0] if surveys else None
        rule.save()


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0012_api_scopes_idempotency"),
        ("surveys", "0001_initial"),
        ("feedback", "0005_case_workflow"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="followuprule",
            options={"ordering": ["position", "pk"]},
        ),
        migrations.AddField(
            model_name="followuprule",
            name="actions",
            field=models.JSONField(blank=True, default=dict, verbose_name="actions"),
        ),
        migrations.AddField(
            model_name="followuprule",
            name="conditions",
            field=models.JSONField(blank=True, default=list, verbose_name="conditions"),
        ),
        migrations.AddField(
            model_name="followuprule",
            name="match",
            field=models.CharField(
                choices=[("all", "All conditions hold"), ("any", "Any condition holds")],
                default="all",
                max_length=3,
                verbose_name="holds when",
            ),
        ),
        migrations.AddField(
            model_name="followuprule",
            name="name",
            field=models.CharField(blank=True, max_length=200, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="followuprule",
            name="position",
            field=models.PositiveIntegerField(default=0, verbose_name="position"),
        ),
        migrations.AddField(
            model_name="followuprule",
            name="round_robin_cursor",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="followuprule",
            name="scope",
            field=models.JSONField(blank=True, default=dict, verbose_name="scope"),
        ),
        migrations.AddField(
            model_name="followuprule",
            name="stop",
            field=models.BooleanField(default=False, verbose_name="stop after this rule"),
        ),
        migrations.AlterField(
            model_name="followuprule",
            name="active",
            field=models.BooleanField(default=True, verbose_name="active"),
        ),
        migrations.RunPython(_legacy_to_v2, _v2_to_legacy),
        migrations.RemoveConstraint(
            model_name="followuprule",
            name="rule_condition_valid",
        ),
        migrations.RemoveConstraint(
            model_name="followuprule",
            name="rule_has_its_operand",
        ),
        migrations.RemoveField(model_name="followuprule", name="alert_staff"),
        migrations.RemoveField(model_name="followuprule", name="choice"),
        migrations.RemoveField(model_name="followuprule", name="condition"),
        migrations.RemoveField(model_name="followuprule", name="email_respondent"),
        migrations.RemoveField(model_name="followuprule", name="open_case"),
        migrations.RemoveField(model_name="followuprule", name="survey"),
        migrations.RemoveField(model_name="followuprule", name="threshold"),
        migrations.AddIndex(
            model_name="followuprule",
            index=models.Index(fields=["organisation", "position"], name="rule_org_position"),
        ),
        migrations.AddConstraint(
            model_name="followuprule",
            constraint=models.CheckConstraint(
                condition=models.Q(("match__in", ["all", "any"])), name="rule_match_valid"
            ),
        ),
        migrations.CreateModel(
            name="RuleAlertIntent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "mode",
                    models.CharField(
                        choices=[
                            ("", "No alert"),
                            ("immediate", "Immediately"),
                            ("digest", "In the digest"),
                        ],
                        default="digest",
                        max_length=10,
                    ),
                ),
                ("reasons", models.JSONField(blank=True, default=list)),
                ("created_at", models.DateTimeField()),
                ("digested_at", models.DateTimeField(blank=True, null=True)),
                (
                    "case",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="feedback.case",
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
                    "response",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="surveys.response",
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="alert_intents",
                        to="feedback.followuprule",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("digested_at__isnull", True)),
                        fields=["organisation", "created_at"],
                        name="alert_intent_pending",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("response", "rule"), name="alert_intent_once")
                ],
            },
        ),
    ]
