"""The default qualifications (DOMAIN.md §9): shift leader, cashier, reception. Coordinators keep
the list afterwards (rename, describe, add); the codes stay."""
from django.db import migrations

DEFAULTS = [
    ("leader", "Shift leader", "Opens and closes the shop, leads the team of the shift and records attendance.", 10),
    ("cashier", "Cashier", "Trained on the tills: payments, refunds and closing the cash register.", 20),
    ("reception", "Reception", "Receives deliveries: checks them against the order, may drive the pallet truck.", 30),
]


def create_defaults(apps, schema_editor):
    Qualification = apps.get_model("members", "Qualification")
    for code, name, description, position in DEFAULTS:
        Qualification.objects.get_or_create(code=code, defaults={"name": name, "description": description, "position": position})


class Migration(migrations.Migration):
    dependencies = [("members", "0010_qualifications_and_welcome")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
