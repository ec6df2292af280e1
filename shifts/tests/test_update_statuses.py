"""update_statuses: the time-driven job (membership part so far), as a command and a Celery task."""
import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from members import services
from members.models import Member, ShareClass
from shifts.tasks import update_statuses_task

SUBSCRIBED = datetime.date(2026, 1, 10)


@pytest.fixture
def instalment_member(db):
    member = services.member_create(first_name="Loïc", last_name="Lefèvre", email="loic@example.org", joined_on=SUBSCRIBED)
    services.share_subscribe(
        member=member, share_class=ShareClass.objects.get(code="A"), quantity=10, payment_method="cash",
        instalments=5, paid_on=SUBSCRIBED, today=SUBSCRIBED,
    )
    return member


def run(today: str) -> str:
    out = StringIO()
    call_command("update_statuses", today=today, stdout=out)
    return out.getvalue()


def test_overdue_instalment_makes_member_unpaid_and_rerun_changes_nothing(instalment_member):
    # Second instalment due 2026-02-10: still active 30 days later, unpaid on the 31st.
    assert "memberships: 0 changed" in run("2026-03-12")
    assert Member.objects.get(pk=instalment_member.pk).membership == "active"
    assert "memberships: 1 changed" in run("2026-03-13")
    assert Member.objects.get(pk=instalment_member.pk).membership == "unpaid"
    assert "memberships: 0 changed" in run("2026-03-13")


def test_task_runs_the_same_service(instalment_member):
    assert update_statuses_task.delay("2026-03-13").get()["memberships"] == 1
    assert Member.objects.get(pk=instalment_member.pk).membership == "unpaid"


def test_bad_date_is_a_clear_error(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("13/03/2026")
