"""Room on each page of the member table for the daily job's updates (PostgreSQL only).

The daily job rewrites the stored standing (counters, status, deadlines) of thousands of members;
with full pages every such update also writes a new entry in each of the table's indexes. With 30%
of each page kept free, an update that changes no indexed column stays on its page (a "HOT" update)
and touches no index. Existing rows move to the roomier pages at the next VACUUM FULL or CLUSTER."""
from django.db import migrations


def set_fillfactor(apps, schema_editor, value=70):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("members", "Member")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("members", "Member")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("members", "0012_trust_parameters")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
