from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("communities", "0013_inbound_bounces")]

    operations = []
