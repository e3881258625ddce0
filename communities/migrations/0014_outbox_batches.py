from django.db import migrations, models

import communities.outbox.models


class Migration(migrations.Migration):
    dependencies = [("communities", "0013_inbound_bounces")]

    operations = [
        migrations.RemoveConstraint(
            model_name="outboundemail",
            name="outbox_status_valid",
        ),
        # Rows written before this have no Message-ID of their own (blank, not one value
        # computed once for all of them); new rows get a unique one when written.
        migrations.AddField(
            model_name="outboundemail",
            name="message_id",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AlterField(
            model_name="outboundemail",
            name="message_id",
            field=models.CharField(
                blank=True, default=communities.outbox.models.outbox_message_id, max_length=255
            ),
        ),
        migrations.AddField(
            model_name="outboundemail",
            name="send_after",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="outboundemail",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("suppressed", "Suppressed"),
                    ("bounced", "Bounced"),
                    ("complained", "Complained"),
                ],
                default="pending",
                max_length=12,
            ),
        ),
        migrations.AddIndex(
            model_name="outboundemail",
            index=models.Index(fields=["message_id"], name="outbox_message_id"),
        ),
        migrations.AddConstraint(
            model_name="outboundemail",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "pending",
                            "sending",
                            "sent",
                            "failed",
                            "suppressed",
                            "bounced",
                            "complained",
                        ],
                    )
                ),
                name="outbox_status_valid",
            ),
        ),
    ]
