"""Create the role groups (CONTRACT.md §4) with their model permissions, and the default share
classes and parameters (DOMAIN.md §1)."""
from decimal import Decimal

from django.contrib.auth.management import create_permissions
from django.db import migrations

def create_groups(apps, schema_editor):
    from coopmarket.roles import sync_group_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    sync_group_permissions(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def create_share_classes(apps, schema_editor):
    ShareClass = apps.get_model("members", "ShareClass")
    ShareClass.objects.get_or_create(
        code="A",
        defaults=dict(
            name="Cooperator shares", unit_price=Decimal("10.00"), min_quantity=10,
            low_income_min_quantity=1, grants_shopping=True, grants_work=True,
        ),
    )
    ShareClass.objects.get_or_create(
        code="B",
        defaults=dict(
            name="Supporting shares", unit_price=Decimal("10.00"), min_quantity=1,
            low_income_min_quantity=1, grants_shopping=False, grants_work=False,
        ),
    )
    apps.get_model("members", "CoopParameters").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_groups, migrations.RunPython.noop),
        migrations.RunPython(create_share_classes, migrations.RunPython.noop),
    ]
