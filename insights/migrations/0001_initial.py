from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    dependencies = [("surveys", "0007_exports")]

    operations = []
