from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("surveys", "0007_exports")]

    operations = []
