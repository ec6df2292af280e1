"""Dated history of membership and shift type for members that existed before it was kept.

Best effort from what was stored: the shift type since `shift_type_since` (or joining), and the
membership: `none` from joining, `active` from the work start date when there is one, then the
current value (from the day the member left, for members who left)."""
from django.db import migrations


def backfill(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    Change = apps.get_model("members", "MemberStateChange")
    rows = []
    for m in Member.objects.all().iterator(chunk_size=2000):
        if Change.objects.filter(member_id=m.pk).exists():
            continue
        rows.append(Change(member_id=m.pk, field="shift_type", value=m.shift_type, effective_date=m.shift_type_since or m.joined_on))
        rows.append(Change(member_id=m.pk, field="membership", value="none", effective_date=m.joined_on))
        if m.work_start_date and m.membership in ("active", "unpaid", "left"):
            rows.append(Change(member_id=m.pk, field="membership", value="active", effective_date=max(m.work_start_date, m.joined_on)))
        if m.membership not in ("none", "active") or (m.membership == "active" and not m.work_start_date):
            since = m.left_on if m.membership == "left" and m.left_on else (m.work_start_date or m.joined_on)
            rows.append(Change(member_id=m.pk, field="membership", value=m.membership, effective_date=max(since, m.joined_on)))
    Change.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("members", "0008_parameters_history_refusals")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
