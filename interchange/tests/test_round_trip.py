"""Leaving is as easy as arriving (CONTRACT.md §7): importing an export into an empty database
gives back every member object of §5 unchanged."""
import pytest
from django.db import transaction

from interchange.export import coop_export
from members.models import Member, Sequence

from .helpers import TODAY, errors_of, generated, member_objects, run_tables

pytestmark = pytest.mark.django_db


class Undo(Exception):
    pass


def snapshot_then_empty(build):
    """Run `build` (filling the database), take the member objects, the sequences and the export,
    then roll everything back: the database is empty again."""
    taken = {}
    try:
        with transaction.atomic():
            build()
            taken["objects"] = member_objects()
            taken["sequences"] = dict(Sequence.objects.values_list("name", "last_value"))
            taken["export"] = coop_export(today=TODAY)
            raise Undo
    except Undo:
        pass
    assert Member.objects.count() == 0
    return taken


def assert_same(before: dict, after: dict) -> None:
    assert sorted(after) == sorted(before)
    differences = {n: {k: (before[n][k], after[n][k]) for k in before[n] if before[n][k] != after[n][k]} for n in before}
    assert {n: d for n, d in differences.items() if d} == {}


def test_a_generated_coop_comes_back_unchanged_through_export_and_import():
    def build():
        assert errors_of(run_tables(generated(300))) == []

    taken = snapshot_then_empty(build)
    report = run_tables(taken["export"])
    assert errors_of(report) == []
    assert_same(taken["objects"], member_objects())
    assert dict(Sequence.objects.values_list("name", "last_value")) == taken["sequences"]
    statuses = {o["status"] for o in taken["objects"].values()}
    assert {"up_to_date", "alert", "suspended", "delay", "on_leave", "exempted", "unsubscribed", "blocked", "not_concerned"} <= statuses


# --- a coop that ran on this project for two months, then leaves ----------------------------

def run_a_coop(seed: int = 5):
    """Forty members through two months of daily life on this project: shares (some by
    instalments), slots, attendance, misses, cycle charges, make-ups, leaves, exemptions,
    extensions, corrections, blocks, a re-enrolment, associates, members who leave (one refunded)."""
    import datetime
    import random

    from members import services as ms
    from members.models import ShareClass
    from shifts import services as ss
    from shifts.models import Registration, Shift

    rng = random.Random(seed)
    start, today = datetime.date(2026, 1, 5), TODAY
    a, b = ShareClass.objects.get(code="A"), ShareClass.objects.get(code="B")
    templates = [
        ss.template_create(name=f"{week}{day} morning", week=week, weekday=day, start_time=datetime.time(9), end_time=datetime.time(12), capacity=4)
        for week in "ABCD" for day in (1, 3, 5)
    ]
    ss.shifts_generate(start=start, end=datetime.date(2026, 4, 30))
    members = []
    for i in range(40):
        kind = "ftop" if i % 3 == 0 else "standard"
        member = ms.member_create(first_name=f"M{i}", last_name=f"Name{i}", email=f"m{i}@example.org", joined_on=datetime.date(2025, 12, 1),
                                  shift_type=kind, low_income=i % 11 == 0, today=start, phone=f"06000000{i:02d}")
        if i % 13 == 5:
            ms.share_subscribe(member=member, share_class=b, quantity=3, payment_method="cash", today=start, paid_on=datetime.date(2025, 12, 2))
        elif i % 9 == 4:
            ms.share_subscribe(member=member, share_class=a, quantity=10, payment_method="transfer", today=start, paid_on=datetime.date(2025, 12, 20), instalments=5)
        else:
            ms.share_subscribe(member=member, share_class=a, quantity=1 if member.low_income else 10, payment_method="cheque", today=start,
                               paid_on=datetime.date(2025, 12, 2))
        if i % 7 == 2:
            ms.associate_add(member=member, first_name=f"A{i}", last_name=f"Name{i}")
        members.append(member)
    for i, member in enumerate(members):
        if member.shift_type == "standard" and i % 13 != 5:
            ss.slot_assign(template=templates[i % len(templates)], member=member, start_date=start, today=start)
    absentees = {f"M{i}" for i in range(40) if i % 5 == 3}  # they never come: misses, debts, unsubscriptions
    day = start
    while day <= today:
        now = ss.local_datetime(day, datetime.time(13))
        for shift in Shift.objects.filter(date=day).order_by("pk"):
            for registration in Registration.objects.filter(shift=shift, cancelled_at__isnull=True, attendance__isnull=True).select_related("member"):
                if registration.member.first_name not in absentees and rng.random() < 0.85:
                    ss.attendance_record(shift=shift, member=registration.member, state="attended", now=now, today=day)
        for i, member in enumerate(members):
            member.refresh_from_db()
            if member.membership == "left":
                continue
            if member.shift_type == "ftop" and member.status not in ("on_leave", "blocked") and rng.random() < 0.06:
                shift = Shift.objects.filter(date__gt=day, date__lte=day + datetime.timedelta(days=6)).order_by("?").first()
                if shift is not None:
                    try:
                        ss.shift_book(shift=shift, member=member, now=now)
                    except Exception:  # noqa: BLE001 - full, limits: this member books another time
                        pass
            if day == datetime.date(2026, 1, 20) and i % 10 == 1:
                ss.leave_create(member=member, start=day + datetime.timedelta(days=3), end=day + datetime.timedelta(days=40), reason="Away", today=day, now=now)
            if day == datetime.date(2026, 2, 25) and i % 10 == 6:
                ss.leave_create(member=member, start=day + datetime.timedelta(days=2), end=day + datetime.timedelta(days=45), reason="Baby", today=day, now=now)
            if day == datetime.date(2026, 2, 2) and i % 10 == 7:
                ss.exemption_create(member=member, start=day + datetime.timedelta(days=1), end=None, reason="Health", today=day, now=now)
            if day in (datetime.date(2026, 2, 16), datetime.date(2026, 3, 3)) and member.status in ("alert", "suspended") and i % 2 == 0:
                ss.extension_grant(member=member, reason="Family", today=day)
            if day == datetime.date(2026, 2, 10) and i % 17 == 3:
                ss.member_block(member=member, reason="Card misuse", today=day)
            if day == datetime.date(2026, 2, 12) and i % 19 == 8:
                ss.correction_write(member=member, counter="ftop", points=2, reason="Inventory help", today=day)
            if day == datetime.date(2026, 2, 3) and i in (12, 26):
                ms.member_leave(member=member, reason="Moving", today=day)
            if day == datetime.date(2026, 2, 20) and member.status == "unsubscribed" and member.shift_type == "standard" and i % 2:
                free = next(t for t in templates if t.slots.filter(end_date__isnull=True).count() < t.capacity)
                ss.member_reenrol(member=member, today=day, template=free)
        ss.shifts_close(today=day + datetime.timedelta(days=1), now=ss.local_datetime(day, datetime.time(23)))
        ss.statuses_update(today=day)
        day += datetime.timedelta(days=1)
    leaver = members[12]
    sub = leaver.subscriptions.first()
    sub.redemption_due_on = today  # the statutes' delay, shortened for the test
    sub.save(update_fields=["redemption_due_on"])
    ms.redemption_record(subscription=sub, method="transfer", today=today)


def test_a_coop_run_on_this_project_leaves_with_every_member_object_unchanged():
    taken = snapshot_then_empty(run_a_coop)
    statuses = {o["status"] for o in taken["objects"].values()}
    assert len(statuses) >= 5, statuses
    report = run_tables(taken["export"])
    assert errors_of(report) == []
    assert_same(taken["objects"], member_objects())
    assert dict(Sequence.objects.values_list("name", "last_value")) == taken["sequences"]
