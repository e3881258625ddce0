"""Responses' days became the organisation's days (surveys 0009): roll-ups folded before
hold the old days, so they are emptied and the watermark goes back to 0. Until the beat's
fold has caught up, readers read the unfolded responses live (exact, only slower)."""

from django.db import migrations


def refold_from_scratch(apps, schema_editor) -> None:
    for name in ("RollupAnswer", "RollupBucket", "RollupMonth"):
        apps.get_model("insights", name).objects.all().delete()
    apps.get_model("insights", "RollupState").objects.update(
        watermark=0, pending=[], dirty=[], folded_at=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0003_question_rollups"),
        ("surveys", "0009_hot_path"),
    ]

    operations = [migrations.RunPython(refold_from_scratch, migrations.RunPython.noop)]
