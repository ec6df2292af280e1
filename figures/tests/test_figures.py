"""Open figures (DOMAIN.md §11): the publication rule, each figure from its ledger, the stored
daily snapshot, the public page, API and CSV."""
import csv
import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from figures import rules, services, tasks
from figures.models import FiguresSnapshot
from inventory.tests import factories as supply
from members import services as member_services
from members.models import Member
from members.tests.factories import MemberFactory, active_member, subscribe, supporting_member
from shifts import services as shift_services
from shifts.models import Shift

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
AS_OF = datetime.date(2026, 3, 20)
NOW = datetime.datetime(2026, 3, 20, 4, 0, tzinfo=PARIS)


# --- the pure rules -----------------------------------------------------------------------------

@pytest.mark.parametrize(("people", "published"), [(10, True), (9, False), (0, False), (250, True)])
def test_nothing_drawn_from_fewer_than_ten_people(people, published):
    assert rules.publishable(people, 10) is published


def test_the_twelve_months_cross_the_new_year():
    months = rules.months_back(datetime.date(2026, 3, 20), 12)
    assert months[0] == datetime.date(2025, 4, 1) and months[-1] == datetime.date(2026, 3, 1) and len(months) == 12
    assert rules.months_back(datetime.date(2026, 1, 31), 2) == [datetime.date(2025, 12, 1), datetime.date(2026, 1, 1)]


def test_hours_are_written_to_the_hundredth():
    assert rules.hours(3 * 3600) == Decimal("3.00") and rules.hours(5400) == Decimal("1.50")


# --- computed from the ledgers ------------------------------------------------------------------

def members(n, prefix, **kw):
    return [active_member(today=datetime.date(2026, 1, 5), first_name=f"{prefix}{i}", last_name="Figure",
                          email=f"{prefix.lower()}{i}@example.org", **kw) for i in range(n)]


@pytest.mark.django_db
def test_member_counts_are_published_from_ten_people_and_null_with_a_note_below():
    members(10, "Act")
    for i in range(9):
        supporting_member(today=datetime.date(2026, 1, 5), first_name=f"Sup{i}", last_name="Figure", email=f"sup{i}@example.org")
    Member.objects.filter(first_name__startswith="Act").update(status="up_to_date")
    data = services.figures_compute(as_of=AS_OF)
    assert data["members"] == {"total": 19, "active": 10, "supporting": None, "working": 10}
    assert data["notes"]["members.supporting"] == rules.HIDDEN
    supporting_member(today=datetime.date(2026, 1, 5), first_name="Sup9", last_name="Figure", email="sup9@example.org")
    assert services.figures_compute(as_of=AS_OF)["members"]["supporting"] == 10


@pytest.mark.django_db
def test_members_who_left_or_hold_no_share_are_not_counted():
    members(10, "Act")
    MemberFactory(first_name="No", last_name="Share", email="noshare@example.org")
    gone = members(1, "Gone")[0]
    member_services.member_leave(member=gone, reason="Moved", today=AS_OF)
    data = services.figures_compute(as_of=AS_OF)
    assert data["members"]["total"] == 10 and data["members"]["active"] == 10


@pytest.mark.django_db
def test_share_capital_as_of_a_date_counts_what_was_subscribed_and_paid_by_then():
    people = members(10, "Cap")  # 10 x 100.00 paid on 2026-01-05
    subscribe(people[0], 5, today=datetime.date(2026, 4, 2))  # after the date: not counted
    late = MemberFactory(first_name="Late", last_name="Payer", email="late@example.org")
    subscribe(late, 10, today=datetime.date(2026, 3, 1), instalments=4)  # 100 subscribed, 25 paid
    data = services.figures_compute(as_of=AS_OF)
    assert data["share_capital"] == {"subscribed": "1100.00", "paid": "1025.00"}
    before = services.figures_compute(as_of=datetime.date(2026, 1, 4))
    assert before["share_capital"] == {"subscribed": None, "paid": None}  # nobody held shares yet
    assert before["notes"]["share_capital.paid"] == rules.NO_DATA


@pytest.mark.django_db
def test_share_capital_of_fewer_than_ten_holders_is_not_published():
    members(9, "Few")
    data = services.figures_compute(as_of=AS_OF)
    assert data["share_capital"] == {"subscribed": None, "paid": None}
    assert data["notes"]["share_capital.subscribed"] == rules.HIDDEN


def work(people, day, *, hours=3, attended=True, name="Figures shift"):
    """Each member worked (or missed) one shift of `hours` hours on `day`."""
    template = shift_services.template_create(
        name=name, week="ABCD"[((day - datetime.date(2026, 1, 5)).days // 7) % 4], weekday=day.weekday(),
        start_time=datetime.time(9), end_time=datetime.time(9 + hours), capacity=len(people),
    )
    shift_services.shifts_generate(start=day, end=day)
    shift = Shift.objects.get(template=template, date=day)
    after = shift.end + datetime.timedelta(hours=1)
    for member in people:
        shift_services.shift_book(shift=shift, member=member, now=after, as_coordinator=True)
        shift_services.attendance_record(shift=shift, member=member, state="attended" if attended else "missed",
                                         now=after, today=day)


@pytest.mark.django_db
def test_person_hours_per_month_are_attended_registrations_times_the_shift_length():
    people = members(12, "Wk", shift_type="ftop")
    work(people[:11], datetime.date(2026, 2, 11), hours=3)  # 11 people x 3 h
    work(people[11:], datetime.date(2026, 2, 12), hours=2, attended=False, name="Missed")  # missed: nothing
    work(people[:4], datetime.date(2026, 3, 4), hours=3, name="Few in March")  # 4 people: not published
    data = services.figures_compute(as_of=AS_OF)
    by_month = {row["month"]: row for row in data["hours_worked"]}
    assert by_month["2026-02"] == {"month": "2026-02", "hours": "33.00", "people": 11}
    assert by_month["2026-03"] == {"month": "2026-03", "hours": None, "people": None}
    assert data["notes"]["hours_worked.2026-03"] == rules.HIDDEN
    assert by_month["2025-12"]["hours"] is None and data["notes"]["hours_worked.2025-12"] == rules.NO_DATA
    assert len(data["hours_worked"]) == 12 and data["hours_worked"][-1]["month"] == "2026-03"


@pytest.mark.django_db
def test_local_sourcing_share_per_month_and_local_suppliers():
    farm = supply.supplier("Ferme", distance_km=40)
    far = supply.supplier("Huilerie", distance_km=720)
    supply.supplier("Dormant", distance_km=10, active=False)
    supply.move(supply.product(supplier_obj=farm), "reception", 10, date=datetime.date(2026, 2, 3), unit_price=Decimal("3.00"))
    supply.move(supply.product(supplier_obj=far), "reception", 10, date=datetime.date(2026, 2, 4), unit_price=Decimal("7.00"))
    data = services.figures_compute(as_of=AS_OF)
    by_month = {row["month"]: row["local_share"] for row in data["local_sourcing"]}
    assert by_month["2026-02"] == "30.0" and by_month["2026-03"] is None
    assert data["notes"]["local_sourcing.2026-03"] == rules.NO_DATA
    assert data["local_suppliers"] == 1


@pytest.mark.django_db
def test_the_minimum_is_a_setting(settings):
    members(5, "Tiny")
    settings.COOP_FIGURES_MIN_PEOPLE = 5
    assert services.figures_compute(as_of=AS_OF)["members"]["active"] == 5
    assert services.figures_compute(as_of=AS_OF)["minimum_people"] == 5


# --- the stored snapshot ------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_daily_snapshot_is_idempotent():
    members(10, "Snap")
    snapshot, changed = services.figures_update(as_of=AS_OF, now=NOW)
    assert changed and snapshot.data["members"]["active"] == 10
    again, changed = services.figures_update(as_of=AS_OF, now=NOW + datetime.timedelta(hours=1))
    assert not changed and again.computed_at == NOW and FiguresSnapshot.objects.count() == 1
    members(1, "More")
    updated, changed = services.figures_update(as_of=AS_OF, now=NOW + datetime.timedelta(hours=2))
    assert changed and updated.data["members"]["active"] == 11 and FiguresSnapshot.objects.count() == 1


@pytest.mark.django_db
def test_the_command_and_the_task_store_the_snapshot():
    out = io.StringIO()
    call_command("update_figures", "--today", "2026-03-20", stdout=out)
    assert "stored" in out.getvalue() and FiguresSnapshot.objects.get().as_of == AS_OF
    call_command("update_figures", "--today", "2026-03-20", stdout=out)
    assert "unchanged" in out.getvalue()
    assert tasks.update_figures.delay("2026-03-21").get() is True
    assert FiguresSnapshot.objects.count() == 2


@pytest.mark.django_db
def test_the_jobs_are_scheduled_daily_by_celery_beat():
    from coopmarket.celery import app

    tasks_scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    ours = {"figures.tasks.update_figures", "assemblies.tasks.freeze_voter_lists"}
    assert ours <= tasks_scheduled
    app.loader.import_default_modules()  # what a worker does: every app's tasks module
    assert ours | {"assemblies.tasks.send_convening", "assemblies.tasks.notify_proxy"} <= set(app.tasks)


# --- public page, API and CSV -------------------------------------------------------------------

@pytest.mark.django_db
def test_the_api_is_public_and_says_why_a_figure_is_null():
    members(10, "Api")
    services.figures_update(as_of=AS_OF, now=NOW)
    body = APIClient().get("/api/v1/figures/").json()
    assert body["as_of"] == "2026-03-20" and body["members"]["active"] == 10 and body["computed_at"]
    assert body["share_capital"]["subscribed"] == "1000.00"
    assert body["members"]["supporting"] is None
    assert body["notes"]["members.supporting"] == "Drawn from fewer than 10 people: not published."
    assert APIClient().get("/api/v1/figures/?as_of=2026-03-20").json()["as_of"] == "2026-03-20"
    assert APIClient().get("/api/v1/figures/?as_of=2025-01-01").status_code == 404
    assert APIClient().get("/api/v1/figures/?as_of=hier").status_code == 400


@pytest.mark.django_db
def test_before_the_first_job_the_api_computes_without_storing():
    response = APIClient().get("/api/v1/figures/")
    assert response.status_code == 200 and response.json()["members"]["total"] is None
    assert not FiguresSnapshot.objects.exists()


@pytest.mark.django_db
def test_the_public_page_draws_the_charts_and_offers_the_csv(client):
    members(10, "Page")
    services.figures_update(as_of=AS_OF, now=NOW)
    page = client.get("/figures/").content.decode()
    assert page.count("<svg") == 2 and 'role="img"' in page
    assert "Drawn from fewer than 10 people: not published." in page
    assert "/figures/figures.csv" in page
    response = client.get("/figures/figures.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["figure", "period", "value", "note"]
    assert ["members_active", "2026-03-20", "10", ""] in rows
    assert any(row[0] == "members_supporting" and row[2] == "" and "fewer than 10" in row[3] for row in rows)


@pytest.mark.django_db
def test_the_page_writes_nothing_and_needs_no_sign_in(client):
    assert client.get("/figures/").status_code == 200
    assert client.post("/figures/").status_code == 405
    assert not FiguresSnapshot.objects.exists()
