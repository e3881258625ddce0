from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("feedback", "0005_case_workflow")]

    operations = []
