# Foreign keys another index on the same table already leads with lose their own index,
# and unique keys become constraints (unique=True adds a LIKE index on PostgreSQL): each
# was one more B-tree written by every answer (issue 13).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0016_session_user"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consentrecord",
            name="member",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="consents",
                to="communities.member",
            ),
        ),
        migrations.AlterField(
            model_name="linktoken",
            name="organisation",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="communities.organisation",
            ),
        ),
        migrations.AlterField(
            model_name="linktoken",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="member",
            name="community",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="members",
                to="communities.community",
            ),
        ),
        migrations.AlterField(
            model_name="outboundemail",
            name="idempotency_key",
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name="outboundemail",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="communities.organisation",
            ),
        ),
        migrations.AddConstraint(
            model_name="linktoken",
            constraint=models.UniqueConstraint(fields=("token_hash",), name="linktoken_token_hash"),
        ),
        migrations.AddConstraint(
            model_name="outboundemail",
            constraint=models.UniqueConstraint(
                fields=("idempotency_key",), name="outbox_idempotency_key"
            ),
        ),
    ]
