"""`seed_demo` (CONTRACT.md §2): the demo accounts, every membership state, idempotent."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from members.models import Associate, Member, Payment, Sequence, ShareSubscription

pytestmark = pytest.mark.django_db

DEMO_DOMAIN = "@demo.coopmarket.test"


def _seed(members: int) -> str:
    out = StringIO()
    call_command("seed_demo", members=members, stdout=out, stderr=StringIO())
    return out.getvalue()


def _counts():
    return (
        get_user_model().objects.count(),
        Member.objects.count(),
        ShareSubscription.objects.count(),
        Payment.objects.count(),
        Associate.objects.count(),
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
    member_account = Member.objects.get(user__username="member")
    assert member_account.membership == Member.Membership.ACTIVE
    assert member_account.can_shop

    demo = Member.objects.filter(email__endswith=DEMO_DOMAIN).exclude(pk=member_account.pk)
    assert demo.count() == 30
    assert set(Member.objects.values_list("membership", flat=True)) == set(Member.Membership.values)
    numbers = sorted(Member.objects.values_list("member_number", flat=True))
    assert numbers == list(range(1, 32))
    assert Sequence.objects.get(name="member").last_value == 31

    output = _seed(30)
    assert _counts() == first
    assert "created 0 demo members" in output


def test_seed_demo_adds_only_the_missing_members():
    _seed(10)
    emails = set(Member.objects.values_list("email", flat=True))
    _seed(15)
    assert Member.objects.count() == 16
    assert emails <= set(Member.objects.values_list("email", flat=True))
    assert sorted(Member.objects.values_list("member_number", flat=True)) == list(range(1, 17))
