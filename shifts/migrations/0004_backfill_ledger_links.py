"""Links the re-resolution needs on rows written before it: each transfer names the row it
follows, each correction keeps what was entered, and the cycle starts already charged are
marked processed."""
import datetime

from django.conf import settings
from django.db import migrations


def backfill(apps, schema_editor):
    CounterEvent = apps.get_model("shifts", "CounterEvent")
    Processed = apps.get_model("shifts", "CycleStartProcessed")
    JobRun = apps.get_model("shifts", "JobRun")
    for transfer in CounterEvent.objects.filter(kind="transfer", cause__isnull=True).iterator(chunk_size=2000):
        source = (
            CounterEvent.objects.filter(member_id=transfer.member_id, pk__lt=transfer.pk)
            .exclude(kind__in=("transfer", "reversal")).order_by("-pk").first()
        )
        if source is not None:
            CounterEvent.objects.filter(pk=transfer.pk).update(cause_id=source.pk)
    for row in CounterEvent.objects.filter(kind="correction", points_entered__isnull=True).iterator(chunk_size=2000):
        counter = "standard" if row.standard_points != 0 else "ftop"
        CounterEvent.objects.filter(pk=row.pk).update(
            points_entered=row.standard_points + row.ftop_points, counter_entered=counter
        )
    starts = set(CounterEvent.objects.filter(kind="cycle_start").values_list("cycle_start", flat=True).distinct())
    run = JobRun.objects.filter(name="update_statuses").first()
    if run is not None:
        anchor = settings.COOP_CYCLE_START
        last = run.last_date - datetime.timedelta(days=1)
        weeks = (last - anchor).days // 7
        starts.add(anchor + datetime.timedelta(days=7 * (weeks - weeks % 4)))
    for start in starts:
        if start is not None:
            Processed.objects.get_or_create(cycle_start=start)


class Migration(migrations.Migration):
    dependencies = [("shifts", "0003_ledger_resolution_and_processed_cycles"), ("members", "0009_backfill_membership_history")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
