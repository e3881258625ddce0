# The outbox moved from feedback to communities (shared plumbing every app sends through).
# Only Django's model state moves: the table feedback_outboundemail stays as it is, with
# its rows, so this copies no data and is instant on any size of outbox.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0004_community_logo_same_site'),
        ('feedback', '0002_delete_outboundemail'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
        migrations.CreateModel(
            name='OutboundEmail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('to_email', models.EmailField(max_length=254)),
                ('template', models.CharField(max_length=100)),
                ('context', models.JSONField(blank=True, default=dict)),
                ('language', models.CharField(default='en', max_length=8)),
                ('subject', models.CharField(max_length=300)),
                ('body_text', models.TextField()),
                ('body_html', models.TextField(blank=True)),
                ('headers', models.JSONField(blank=True, default=dict)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed')], default='pending', max_length=8)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('last_error', models.TextField(blank=True)),
                ('idempotency_key', models.CharField(max_length=200, unique=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('claimed_at', models.DateTimeField(blank=True, null=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('organisation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='communities.organisation')),
            ],
            options={
                'db_table': 'feedback_outboundemail',
                'ordering': ['-created_at'],
                'indexes': [models.Index(condition=models.Q(('status__in', ['pending', 'sending'])), fields=['created_at'], name='outbox_unsent')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'sending', 'sent', 'failed'])), name='outbox_status_valid'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'sent'), _negated=True), ('sent_at__isnull', False), _connector='OR'), name='outbox_sent_has_time')],
            },
        ),
            ],
        ),
    ]
