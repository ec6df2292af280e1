"""`seed_demo` (CONTRACT.md §2): the demo accounts, every membership state and every working status,
idempotent; and the shift admin pages answer on the demo data."""
import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from members.models import Associate, Member, Payment, Qualification, Sequence, ShareSubscription
from shifts.models import (
    CounterEvent,
    Exemption,
    Extension,
    JobRun,
    Leave,
    Registration,
    Shift,
    ShiftTemplate,
    SlotAssignment,
    StatusChange,
)

pytestmark = pytest.mark.django_db

DEMO_DOMAIN = "@demo.coopmarket.test"
WORKING_STATUSES = {"up_to_date", "alert", "delay", "suspended", "on_leave", "exempted", "unsubscribed", "blocked"}


def _seed(members: int) -> str:
    out = StringIO()
    call_command("seed_demo", members=members, force=True, stdout=out, stderr=StringIO())
    return out.getvalue()


def _counts():
    return (
        get_user_model().objects.count(),
        Member.objects.count(),
        ShareSubscription.objects.count(),
        Payment.objects.count(),
        Associate.objects.count(),
        ShiftTemplate.objects.count(),
        Shift.objects.count(),
        SlotAssignment.objects.count(),
        Registration.objects.count(),
        Registration.objects.filter(attendance__isnull=False).count(),
        CounterEvent.objects.count(),
        StatusChange.objects.count(),
        Leave.objects.count(),
        Exemption.objects.count(),
        Extension.objects.count(),
    )


def test_seed_demo_builds_a_demo_coop_and_a_second_run_adds_nothing():
    output = _seed(30)
    first = _counts()
    for username in ("admin", "coordinator", "cashier", "supply", "member"):
        assert f"  {username} " in output
    assert "'demo'" in output

    users = get_user_model().objects
    for username in ("admin", "coordinator", "cashier", "supply", "member"):
        assert users.get(username=username).check_password("demo"), username
    assert users.get(username="admin").is_superuser
    coordinator = users.get(username="coordinator")
    assert coordinator.is_staff and coordinator.groups.filter(name="coordinators").exists()
    assert users.get(username="cashier").groups.filter(name="cashiers").exists()
    assert users.get(username="supply").groups.filter(name="supply").exists()

    demo = Member.objects.filter(email__endswith=DEMO_DOMAIN).exclude(user__username="member")
    assert demo.count() == 30
    assert set(Member.objects.values_list("membership", flat=True)) == set(Member.Membership.values)
    numbers = sorted(Member.objects.values_list("member_number", flat=True))
    assert numbers == list(range(1, 32))
    assert Sequence.objects.get(name="member").last_value == 31

    output = _seed(30)
    assert _counts() == first
    assert "created 0 demo members" in output
    assert "history: already there" in output


def test_seed_demo_puts_members_in_every_working_status_through_the_services():
    output = _seed(16)  # the first 16 members of the plan cover every status
    today = timezone.localdate()

    statuses = set(Member.objects.values_list("status", flat=True))
    assert WORKING_STATUSES <= statuses
    assert "Members by working status: up_to_date" in output
    ftop = Member.objects.filter(shift_type=Member.ShiftType.FTOP, membership=Member.Membership.ACTIVE)
    assert ftop.filter(counter_ftop__gt=0).exists() and ftop.filter(counter_ftop__lt=0).exists()

    # 64 templates (Tuesday-Saturday, weeks A-D) and 2 welcome sessions; shifts from 8 weeks ago to 90 days ahead.
    assert ShiftTemplate.objects.filter(welcome=False).count() == 64
    assert ShiftTemplate.objects.filter(welcome=True).count() == 2
    assert set(ShiftTemplate.objects.values_list("weekday", flat=True)) == {1, 2, 3, 4, 5}
    dates = Shift.objects.values_list("date", flat=True)
    assert min(dates) >= today - datetime.timedelta(days=56) and max(dates) <= today + datetime.timedelta(days=90)
    assert max(dates) > today + datetime.timedelta(days=80)
    # Every past shift is closed; each past registration has its attendance; no template over capacity.
    assert not Shift.objects.filter(date__lt=today, closed_at__isnull=True).exists()
    assert not Registration.objects.filter(shift__date__lt=today, cancelled_at__isnull=True, attendance__isnull=True).exists()
    for template in ShiftTemplate.objects.all():
        assert template.slots.filter(end_date__isnull=True).count() <= template.capacity
    for shift in Shift.objects.filter(date__gte=today):
        assert shift.registrations.filter(cancelled_at__isnull=True).count() <= shift.capacity

    # Each status comes from its real cause.
    assert Leave.objects.filter(start__gte=today).exists() and Exemption.objects.filter(start__gte=today).exists()
    assert Extension.objects.filter(granted_on=today).exists()
    assert Member.objects.filter(status="blocked").exclude(blocked_reason="").exists()
    unsubscribed = Member.objects.filter(status="unsubscribed").first()
    assert unsubscribed.slots.filter(end_reason="unsubscribed").exists()
    assert CounterEvent.objects.filter(kind="missed_regular").exists()
    assert CounterEvent.objects.filter(kind="cycle_start").exists() or today.weekday() == 0
    assert JobRun.objects.get(name="update_statuses").last_date == today

    # The `member` account: up to date, a regular slot, and the till lets them shop.
    member = Member.objects.get(user__username="member")
    assert member.status == "up_to_date" and member.membership == "active"
    assert member.slots.filter(end_date__isnull=True).exists()
    assert member.registrations.filter(shift__date__gt=today, kind="regular").exists()
    assert member.can_shop

    # Qualifications (DOMAIN.md §9): leaders and cashiers, tills with qualified seats, a few shifts
    # of the next days flagged "no leader".
    from members.qualifications import holders_count
    from shifts.selectors import shifts_without_leader

    held = {q.code: n for q, n in ((q, holders_count(today).get(q.pk, 0)) for q in Qualification.objects.all())}
    assert held["leader"] >= 2 and held["cashier"] >= 1
    assert ShiftTemplate.objects.filter(name="Caisse", requirements__qualification__code="leader").exists()
    assert Registration.objects.filter(seat__code="leader", cancelled_at__isnull=True, shift__date__gte=today).exists()
    assert shifts_without_leader(now=timezone.now(), today=today)
    assert "shifts flagged 'no leader' now:" in output
    assert Member.objects.filter(welcomed_on__isnull=False).exists()


def test_seed_demo_adds_only_the_missing_members():
    _seed(10)
    emails = set(Member.objects.values_list("email", flat=True))
    _seed(15)
    assert Member.objects.count() == 16
    assert emails <= set(Member.objects.values_list("email", flat=True))
    assert sorted(Member.objects.values_list("member_number", flat=True)) == list(range(1, 17))


def test_shift_admin_pages_answer_on_the_demo_data(client):
    _seed(16)
    client.force_login(get_user_model().objects.get(username="admin"))
    models = [ShiftTemplate, Shift, Registration, CounterEvent, StatusChange, Leave, Exemption, Extension, SlotAssignment, JobRun]
    for model in models:
        name = model._meta.model_name
        assert client.get(reverse(f"admin:shifts_{name}_changelist")).status_code == 200, name
        obj = model.objects.first()
        assert client.get(reverse(f"admin:shifts_{name}_change", args=[obj.pk])).status_code == 200, name
    for name in ("shifttemplate", "leave", "exemption", "extension", "slotassignment"):
        assert client.get(reverse(f"admin:shifts_{name}_add")).status_code == 200, name
    for name in ("shift", "registration", "counterevent", "statuschange", "jobrun"):
        assert client.get(reverse(f"admin:shifts_{name}_add")).status_code == 403, name
    assert client.get(reverse("admin:shifts_shift_changelist"), {"date__gte": "2026-01-01", "q": "Caisse"}).status_code == 200
    for name in ("qualification", "memberqualification"):
        assert client.get(reverse(f"admin:members_{name}_changelist")).status_code == 200, name
        assert client.get(reverse(f"admin:members_{name}_add")).status_code == 200, name
    grant = Member.objects.get(user__username="member").qualification_grants.first()
    assert client.get(reverse("admin:members_memberqualification_change", args=[grant.pk])).status_code == 200
    assert client.get(reverse("admin:members_qualification_change", args=[grant.qualification_id])).status_code == 200

    # A refused service is a form error, not a 500: a leave cannot start in the past.
    member = Member.objects.get(user__username="member")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(reverse("admin:shifts_leave_add"), {
        "member": member.pk, "start": yesterday.isoformat(), "end": (yesterday + datetime.timedelta(days=40)).isoformat(),
        "reason": "Voyage",
    })
    assert response.status_code == 200
    assert "start" in response.context["adminform"].form.errors
    assert not member.leaves.exists()

    # A template change goes through template_update: its future shifts follow.
    template = member.slots.get(end_date__isnull=True).template
    data = {
        "name": "Mise en rayon (frais)", "week": template.week, "weekday": template.weekday,
        "start_time": template.start_time.strftime("%H:%M"), "end_time": template.end_time.strftime("%H:%M"),
        "capacity": template.capacity, "required_skill": "", "leader": "", "active": "on",
        "slots-TOTAL_FORMS": "0", "slots-INITIAL_FORMS": "0", "slots-MIN_NUM_FORMS": "0", "slots-MAX_NUM_FORMS": "0",
        "requirements-TOTAL_FORMS": "0", "requirements-INITIAL_FORMS": "0", "requirements-MIN_NUM_FORMS": "0",
        "requirements-MAX_NUM_FORMS": "1000",
    }
    response = client.post(reverse("admin:shifts_shifttemplate_change", args=[template.pk]), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    future = template.shifts.filter(start__gt=timezone.now())
    assert future.exists() and set(future.values_list("name", flat=True)) == {"Mise en rayon (frais)"}
    assert template.shifts.filter(date__lt=timezone.localdate()).exclude(name="Mise en rayon (frais)").exists()
