# Notification log and per-member notification preferences (issue 5).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0005_french_share_class_names'),
        ('shifts', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reminders', models.BooleanField(default=True, verbose_name='reminders before my shifts')),
                ('understaffed_calls', models.BooleanField(default=True, verbose_name='calls for understaffed shifts')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('member', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='notification_preference', to='members.member')),
            ],
            options={
                'verbose_name': 'notification preferences',
                'verbose_name_plural': 'notification preferences',
            },
        ),
        migrations.CreateModel(
            name='NotificationLog',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('booking', 'Booking confirmation'), ('reminder', 'Shift reminder'), ('missed', 'Missed shift'), ('alert', 'Alert notice'), ('suspended', 'Suspension notice'), ('exchange_taken', 'Exchange taken'), ('understaffed', 'Understaffed shift call')], max_length=16, verbose_name='kind')),
                ('key', models.CharField(max_length=64, verbose_name='about')),
                ('recipient', models.EmailField(max_length=254, verbose_name='sent to')),
                ('subject', models.CharField(max_length=255, verbose_name='subject')),
                ('sent_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='sent at')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notifications', to='members.member')),
            ],
            options={
                'verbose_name': 'notification sent',
                'verbose_name_plural': 'notifications sent',
                'ordering': ['-sent_at', '-id'],
                'constraints': [models.UniqueConstraint(fields=('member', 'kind', 'key'), name='one_notification_per_member_kind_and_key')],
            },
        ),
    ]
