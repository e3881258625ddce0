import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("communities", "0012_api_scopes_idempotency")]

    operations = [
        migrations.AddField(
            model_name="emailsuppression",
            name="detail",
            field=models.CharField(blank=True, max_length=40, verbose_name="detail"),
        ),
        migrations.AddField(
            model_name="emailsuppression",
            name="outbound_email",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="communities.outboundemail",
            ),
        ),
        migrations.AddField(
            model_name="emailsuppression",
            name="source",
            field=models.CharField(
                choices=[
                    ("person", "The person"),
                    ("dsn", "Delivery-status notification"),
                    ("arf", "Mailbox provider's feedback loop"),
                ],
                default="person",
                max_length=8,
                verbose_name="source",
            ),
        ),
        migrations.AlterField(
            model_name="emailsuppression",
            name="reason",
            field=models.CharField(
                choices=[
                    ("unsubscribed", "Unsubscribed"),
                    ("hard_bounce", "Hard bounce"),
                    ("complaint", "Spam complaint"),
                ],
                default="unsubscribed",
                max_length=40,
                verbose_name="reason",
            ),
        ),
    ]
