# Foreign keys another index on the same table already leads with lose their own index,
# and unique keys become constraints (unique=True adds a LIKE index on PostgreSQL): each
# was one more B-tree written by every answer (issue 13).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0017_drop_covered_indexes"),
        ("rewards", "0002_catalogue_loyalty"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="idempotency_key",
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="member",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entries",
                to="communities.member",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="organisation",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="ledger_entries",
                to="communities.organisation",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(
                fields=("idempotency_key",), name="ledger_idempotency_key"
            ),
        ),
    ]
