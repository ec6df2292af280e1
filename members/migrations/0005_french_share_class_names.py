"""Name the default share classes in French (the coop's language), unless an admin renamed them."""
from django.db import migrations

RENAMES = {
    "A": ("Cooperator shares", "Parts A – coopérateur"),
    "B": ("Supporting shares", "Parts B – soutien"),
}


def to_french(apps, schema_editor):
    ShareClass = apps.get_model("members", "ShareClass")
    for code, (english, french) in RENAMES.items():
        ShareClass.objects.filter(code=code, name=english).update(name=french)


def to_english(apps, schema_editor):
    ShareClass = apps.get_model("members", "ShareClass")
    for code, (english, french) in RENAMES.items():
        ShareClass.objects.filter(code=code, name=french).update(name=english)


class Migration(migrations.Migration):
    dependencies = [("members", "0004_member_shift_type_since")]

    operations = [migrations.RunPython(to_french, to_english)]
