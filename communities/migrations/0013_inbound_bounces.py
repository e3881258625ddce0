from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("communities", "0012_api_scopes_idempotency")]

    operations = []
