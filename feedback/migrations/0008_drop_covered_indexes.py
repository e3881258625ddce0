# Foreign keys another index on the same table already leads with lose their own index,
# and unique keys become constraints (unique=True adds a LIKE index on PostgreSQL): each
# was one more B-tree written by every answer (issue 13).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0017_drop_covered_indexes"),
        ("feedback", "0007_case_followups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="organisation",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="cases",
                to="communities.organisation",
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="feedback.case",
            ),
        ),
    ]
