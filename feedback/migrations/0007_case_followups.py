"""Case workflow follow-ups: the inbox's indexes, one per filter it offers on the case
itself, in the order its pages are read (newest first, or by due time); and the timeline's
"priority changed" event."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0006_rules_v2"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="caseevent", name="case_event_kind_valid"),
        migrations.AlterField(
            model_name="caseevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("opened", "Opened"),
                    ("assigned", "Assigned"),
                    ("status_changed", "Status changed"),
                    ("note", "Note"),
                    ("email_sent", "Email sent"),
                    ("reply_received", "Reply received"),
                    ("escalated", "Escalated"),
                    ("recovery_sent", "Recovery survey sent"),
                    ("recovery_answered", "Recovery survey answered"),
                    ("priority_changed", "Priority changed"),
                ],
                max_length=20,
                verbose_name="what happened",
            ),
        ),
        migrations.AddConstraint(
            model_name="caseevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "opened",
                            "assigned",
                            "status_changed",
                            "note",
                            "email_sent",
                            "reply_received",
                            "escalated",
                            "recovery_sent",
                            "recovery_answered",
                            "priority_changed",
                        ],
                    )
                ),
                name="case_event_kind_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["organisation", "-created_at", "-id"], name="case_inbox_newest"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["organisation", "team", "-created_at", "-id"], name="case_inbox_team"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["organisation", "assignee", "-created_at", "-id"],
                name="case_inbox_assignee",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["organisation", "priority", "-created_at", "-id"],
                name="case_inbox_priority",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["organisation", "due_at", "id"], name="case_inbox_due"),
        ),
    ]
