from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_initial")]

    operations = []
