"""What an import writes (CONTRACT.md §7, DOMAIN.md §1, §3, §5): numbers and cards kept, opening
balances, statuses as update_statuses computes them without a charge, idempotence, all or nothing."""
import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from members import services as member_services
from members.barcodes import associate_barcode, member_barcode
from members.models import Associate, Member, MemberEvent, MemberStateChange, Payment, Sequence, ShareSubscription
from members.tests.factories import active_member
from shifts import services as shift_services
from shifts.models import (
    CounterEvent,
    CycleStartProcessed,
    Exemption,
    Extension,
    Leave,
    Registration,
    Shift,
    SlotAssignment,
    StatusChange,
)

from .helpers import TODAY, D, errors_of, files, member_row, run, share_row, template_row, warnings_of

pytestmark = pytest.mark.django_db
FOREIGN = "2990000000019"  # a valid EAN-13 printed by the previous system
UPC = "0036000291452"  # a valid EAN-13 starting with 0: scanners may send it as 12 digits


def coop(members, shares=None, **more):
    return files(
        templates_csv=[template_row("A Lundi matin", capacity=4), template_row("B Mardi soir", week="B", weekday=1, start="17:00", end="20:00")],
        members_csv=members,
        shares_csv=shares if shares is not None else [share_row(int(m["member_number"])) for m in members if m["member_number"]],
        **more,
    )


def member(number) -> Member:
    return Member.objects.get(member_number=number)


def table_counts() -> dict[str, int]:
    models = (Member, MemberStateChange, MemberEvent, ShareSubscription, Payment, Associate, SlotAssignment, Leave, Exemption, Extension,
              CounterEvent, StatusChange, Registration)
    return {model.__name__: model.objects.count() for model in models}


# --- numbers and cards ------------------------------------------------------------------------

def test_members_keep_their_numbers_and_new_numbers_continue_after_the_highest():
    report = run(coop([member_row(40, "Ada", "Lovelace", "ftop"), member_row(None, "Bob", "Marley", "ftop"), member_row(7, "Cy", "Young", "ftop")]))
    assert errors_of(report) == []
    assert sorted(Member.objects.values_list("member_number", flat=True)) == [7, 40, 41]
    assert Member.objects.get(first_name="Bob").member_number == 41
    assert Sequence.objects.get(name="member").last_value == 41
    later = member_services.member_create(first_name="Di", last_name="New", email="di@example.org", joined_on=TODAY, today=TODAY)
    assert later.member_number == 42 and later.card_barcode == member_barcode(42)


def test_given_cards_are_kept_and_empty_ones_made_and_the_till_finds_them_12_digit_scans_too():
    rows = [member_row(1, "Ada", "Lovelace", "ftop", card_barcode=FOREIGN), member_row(2, "Bob", "Marley", "ftop", card_barcode=UPC),
            member_row(3, "Cy", "Young", "ftop", card_barcode=member_barcode(3)), member_row(4, "Di", "Prince", "ftop")]
    associates = [{"member_number": "1", "first_name": "Al", "last_name": "Lovelace", "card_barcode": "5901234123457"},
                  {"member_number": "2", "first_name": "Bea", "last_name": "Marley", "card_barcode": associate_barcode(77)},
                  {"member_number": "3", "first_name": "Cid", "last_name": "Young"}]
    assert errors_of(run(coop(rows, associates_csv=associates))) == []
    assert [member(n).card_barcode for n in (1, 2, 3, 4)] == [FOREIGN, UPC, member_barcode(3), member_barcode(4)]
    assert dict(Associate.objects.values_list("first_name", "associate_number")) == {"Bea": 77, "Cid": 78, "Al": 79}
    assert Associate.objects.get(first_name="Cid").card_barcode == associate_barcode(78)
    assert Sequence.objects.get(name="associate").last_value == 79
    user = get_user_model().objects.create_user(username="till", password="x-pass-word-1")
    user.groups.add(Group.objects.get(name="cashiers"))
    till = APIClient()
    till.force_login(user)
    for code, number, is_associate in ((FOREIGN, 1, False), (UPC, 2, False), (UPC[1:], 2, False), ("5901234123457", 1, True),
                                       (associate_barcode(77), 2, True), (associate_barcode(77)[1:], 2, True), (member_barcode(4)[1:], 4, False)):
        answer = till.get(f"/api/v1/checkout/{code}/")
        assert answer.status_code == 200, code
        assert (answer.json()["member_number"], answer.json()["associate"]) == (number, is_associate), code
    assert till.get("/api/v1/checkout/2990000000026/").status_code == 404
    assert Member.objects.filter(pk__in=[m.pk for m in Member.objects.all()]).count() == 4


def test_a_card_made_here_later_never_collides_with_a_kept_one():
    assert errors_of(run(coop([member_row(1, "Ada", "Lovelace", "ftop", card_barcode=FOREIGN)]))) == []
    later = member_services.member_create(first_name="Bo", last_name="New", email="bo@example.org", joined_on=TODAY, today=TODAY)
    assert later.card_barcode == member_barcode(2)


# --- opening balances and statuses --------------------------------------------------------------

def test_counters_become_opening_rows_dated_the_day_before_the_import():
    report = run(coop([member_row(1, "Ada", "Lovelace", "standard", counter_standard=-2, counter_ftop=0, slot_template="A Lundi matin"),
                       member_row(2, "Bob", "Marley", "ftop", counter_ftop=3)]))
    assert errors_of(report) == []
    rows = list(CounterEvent.objects.filter(kind="opening").order_by("member__member_number").values_list(
        "member__member_number", "date", "standard_points", "ftop_points", "reason"))
    assert rows == [(1, TODAY - D(days=1), -2, 0, "Imported"), (2, TODAY - D(days=1), 0, 3, "Imported")]
    ada, bob = member(1), member(2)
    assert (ada.counter_standard, ada.status, ada.alert_deadline) == (-2, "alert", TODAY - D(days=1) + D(days=28))
    assert (bob.counter_ftop, bob.status) == (3, "up_to_date")


def test_an_imported_alert_episode_past_its_deadline_is_suspended_at_once_and_a_recent_one_keeps_its_deadline():
    rows = [member_row(1, "Ada", "Lovelace", counter_standard=-2, alert_started_on=str(TODAY - D(days=40)), slot_template="A Lundi matin"),
            member_row(2, "Bob", "Marley", "ftop", counter_ftop=-1, alert_started_on=str(TODAY - D(days=10)))]
    assert errors_of(run(coop(rows))) == []
    ada, bob = member(1), member(2)
    assert (ada.status, ada.alert_deadline) == ("suspended", TODAY - D(days=40) + D(days=28))
    assert (bob.status, bob.alert_deadline) == ("alert", TODAY - D(days=10) + D(days=28))
    assert not ada.can_shop and bob.can_shop
    assert StatusChange.objects.get(member=ada).to_status == "suspended"


def test_current_leaves_and_exemptions_may_have_started_in_the_past_and_extensions_give_delay():
    rows = [member_row(1, "Ada", "Lovelace", slot_template="A Lundi matin"), member_row(2, "Bob", "Marley", "ftop"),
            member_row(3, "Cy", "Young", counter_standard=-1, alert_started_on=str(TODAY - D(days=35)), slot_template="A Lundi matin")]
    report = run(coop(rows, absences_csv=[
        {"member_number": "1", "kind": "leave", "start": str(TODAY - D(days=20)), "end": str(TODAY + D(days=20)), "reason": "Trip"},
        {"member_number": "2", "kind": "exemption", "start": str(TODAY - D(days=200)), "reason": "Health"},
    ], extensions_csv=[{"member_number": "3", "granted_on": str(TODAY - D(days=8)), "start": str(TODAY - D(days=7)),
                        "end": str(TODAY + D(days=20)), "reason": "Family"}]))
    assert errors_of(report) == []
    assert [member(n).status for n in (1, 2, 3)] == ["on_leave", "exempted", "delay"]
    assert member(3).delay_until == TODAY + D(days=20)


def test_a_standard_members_credit_pays_their_debt_at_once():
    assert errors_of(run(coop([member_row(1, counter_standard=-1, counter_ftop=3, slot_template="A Lundi matin")]))) == []
    ada = member(1)
    assert (ada.counter_standard, ada.counter_ftop, ada.status) == (0, 2, "up_to_date")
    assert CounterEvent.objects.filter(member=ada, kind="transfer", standard_points=1, ftop_points=-1).count() == 1


def test_an_ftop_counter_below_the_threshold_unsubscribes_only_when_the_file_says_so():
    rows = [member_row(1, "Ada", "Lovelace", "ftop", counter_ftop=-9), member_row(2, "Bob", "Marley", "ftop", counter_ftop=-9, unsubscribed=1)]
    assert errors_of(run(coop(rows))) == []
    assert member(1).status == "alert" and member(2).status == "unsubscribed"


def test_blocked_left_supporting_unpaid_and_low_income_members():
    rows = [member_row(1, "Ada", "Lovelace", "ftop", blocked_reason="Card lent"), member_row(2, "Bob", "Marley", "ftop", left_on="2025-12-01"),
            member_row(3, "Cy", "Young", "ftop"), member_row(4, "Di", "Prince", "ftop"), member_row(5, "Ed", "Wood", "ftop", low_income=1)]
    shares = [share_row(1), share_row(2), share_row(3, 2, "B"), share_row(4, amount_paid="40.00"), share_row(5, 1)]
    report = run(coop(rows, shares, payments_csv=[
        {"member_number": "2", "share_class": "A", "subscribed_on": "2025-01-10", "amount": "100.00", "paid_on": "2025-01-10", "payment_method": "cash"},
        {"member_number": "2", "share_class": "A", "subscribed_on": "2025-01-10", "amount": "-100.00", "paid_on": "2026-02-01", "payment_method": "transfer"},
    ], associates_csv=[{"member_number": "2", "first_name": "Bea", "last_name": "Marley"}]))
    assert errors_of(report) == []
    assert [(member(n).membership, member(n).status) for n in range(1, 6)] == [
        ("active", "blocked"), ("left", "not_concerned"), ("supporting", "not_concerned"), ("unpaid", "up_to_date"), ("active", "up_to_date")]
    left = member(2).subscriptions.get()
    assert (left.redemption_requested_on, left.redeemed_on) == (datetime.date(2025, 12, 1), datetime.date(2026, 2, 1))
    assert Associate.objects.get(first_name="Bea").removed_on == datetime.date(2025, 12, 1)


def test_membership_is_dated_from_the_payment_and_the_shift_type_from_joining():
    assert errors_of(run(coop([member_row(1, "Ada", "Lovelace", "ftop", joined_on="2024-05-01")], [share_row(1, subscribed_on="2024-06-10")]))) == []
    ada = member(1)
    history = list(MemberStateChange.objects.filter(member=ada).order_by("field", "effective_date").values_list("field", "value", "effective_date"))
    assert history == [("membership", "none", datetime.date(2024, 5, 1)), ("membership", "active", datetime.date(2024, 6, 10)),
                       ("shift_type", "ftop", datetime.date(2024, 5, 1))]
    assert ada.work_start_date == datetime.date(2024, 6, 10)


def test_no_charge_up_to_the_import_date_and_the_next_cycle_starts_charge_is_written():
    native = active_member(today=datetime.date(2025, 12, 1), shift_type="ftop", email="native@example.org")
    assert errors_of(run(coop([member_row(50, "Ada", "Lovelace", "ftop", counter_ftop=1)]))) == []
    shift_services.statuses_update(today=TODAY)  # the first run: the latest cycle start, 2026-03-02
    assert CycleStartProcessed.objects.filter(cycle_start=datetime.date(2026, 3, 2)).exists()
    assert not CounterEvent.objects.filter(member=member(50), kind="cycle_start").exists()
    assert CounterEvent.objects.filter(member=native, kind="cycle_start").count() == 1
    shift_services.statuses_update(today=datetime.date(2026, 3, 30))  # the next cycle start
    charge = CounterEvent.objects.get(member=member(50), kind="cycle_start")
    assert (charge.cycle_start, charge.ftop_points) == (datetime.date(2026, 3, 30), -1)
    assert member(50).counter_ftop == 0


def test_an_import_on_a_cycle_start_day_counts_that_day_as_charged():
    monday = datetime.date(2026, 3, 30)
    assert errors_of(run(coop([member_row(1, "Ada", "Lovelace", "ftop")]), today=monday)) == []
    shift_services.statuses_update(today=monday)
    assert not CounterEvent.objects.filter(kind="cycle_start").exists()


def test_slot_holders_are_registered_on_shifts_already_generated_from_the_import_day_on():
    assert errors_of(run(coop([member_row(9, "Ada", "Lovelace", "ftop")], [share_row(9)]))) == []  # the templates first
    shift_services.shifts_generate(start=TODAY - D(days=14), end=TODAY + D(days=60))
    report = run(coop([member_row(9, "Ada", "Lovelace", "ftop"), member_row(10, "Bob", "Marley", slot_template="A Lundi matin")],
                      [share_row(9), share_row(10)]))
    assert errors_of(report) == []
    dates = sorted(Registration.objects.filter(member=member(10)).values_list("shift__date", flat=True))
    assert dates and dates[0] >= TODAY and all(d.weekday() == 0 for d in dates)


def test_a_slot_whose_generated_shift_is_full_is_refused_naming_the_dates():
    assert errors_of(run(coop([member_row(90, "Ada", "Lovelace", "ftop")], [share_row(90)]))) == []
    shift_services.shifts_generate(start=TODAY, end=TODAY + D(days=40))
    full = Shift.objects.filter(template__name="A Lundi matin", date__gt=TODAY).order_by("date").first()
    for n in range(4):
        someone = active_member(today=TODAY, email=f"s{n}@example.org", shift_type="ftop")
        Registration.objects.create(shift=full, member=someone, kind=Registration.Kind.ONE_OFF)
    report = run(coop([member_row(90, "Ada", "Lovelace", "ftop"), member_row(200, "Bob", "Marley", slot_template="A Lundi matin")],
                      [share_row(90), share_row(200)]))
    assert f"members.csv:3: slot_template: The shift of this slot is already full on {full.date.isoformat()}: start the slot after that, or free a seat first." in errors_of(report)
    assert not Member.objects.filter(member_number=200).exists()


# --- idempotence, changes, all or nothing -------------------------------------------------------

def full_coop():
    return coop(
        [member_row(1, "Ada", "Lovelace", slot_template="A Lundi matin", counter_standard=-1, phone="0600000001"),
         member_row(2, "Bob", "Marley", "ftop", counter_ftop=2), member_row(3, "Cy", "Young", "ftop", left_on="2025-10-01")],
        associates_csv=[{"member_number": "1", "first_name": "Al", "last_name": "Lovelace"}],
        absences_csv=[{"member_number": "2", "kind": "exemption", "start": "2026-01-01", "end": "2026-02-01"}],
        extensions_csv=[{"member_number": "1", "granted_on": str(TODAY - D(days=1)), "start": str(TODAY + D(days=26)), "end": str(TODAY + D(days=53))}],
        payments_csv=[{"member_number": "2", "share_class": "A", "subscribed_on": "2025-01-10", "amount": "50.00", "paid_on": "2025-01-10", "payment_method": "cash"},
                      {"member_number": "2", "share_class": "A", "subscribed_on": "2025-01-10", "amount": "50.00", "paid_on": "2025-02-10", "payment_method": "cash"}],
    )


def test_the_same_files_twice_create_and_change_nothing():
    first = run(full_coop())
    assert errors_of(first) == [] and first.total_created > 0
    before = table_counts()
    again = run(full_coop())
    assert errors_of(again) == []
    assert again.summary == "0 created, 0 changed"
    assert table_counts() == before


def test_a_changed_email_or_phone_is_updated_and_nothing_is_deleted():
    assert errors_of(run(full_coop())) == []
    before = table_counts()
    changed = full_coop()
    changed["members.csv"][0]["email"] = "ada.new@example.org"
    changed["members.csv"][1]["phone"] = "0611111111"
    del changed["members.csv"][2]  # Cy is not in the files any more: kept
    changed["shares.csv"] = [r for r in changed["shares.csv"] if r["member_number"] != "3"]
    changed["associates.csv"] = []
    report = run(changed)
    assert errors_of(report) == []
    assert report.summary == "0 created, 2 changed"
    assert member(1).email == "ada.new@example.org" and member(2).phone == "0611111111"
    assert table_counts()["Member"] == before["Member"] and table_counts()["Associate"] == before["Associate"]


def test_a_re_import_adds_what_is_new_and_warns_about_what_it_does_not_change():
    assert errors_of(run(full_coop())) == []
    more = full_coop()
    more["members.csv"][1]["counter_ftop"] = "5"
    more["members.csv"][1]["shift_type"] = "standard"
    more["shares.csv"].append(share_row(2, 2, "B", subscribed_on="2026-01-15"))
    more["members.csv"].append(member_row(4, "Di", "Prince", "ftop"))
    more["shares.csv"].append(share_row(4))
    report = run(more)
    assert errors_of(report) == []
    assert report.created == {"members": 1, "subscriptions": 2, "payments": 2}
    assert "members.csv:3: shift_type: Differs from the database (ftop): an import does not change it (use the member's page)." in warnings_of(report)
    assert "members.csv:3: counter_standard: The counters differ from the database (0, 2): an import does not change it (use the member's page)." in warnings_of(report)
    assert member(2).shift_type == "ftop" and member(2).subscriptions.count() == 2


def test_a_dry_run_writes_nothing_and_reports_what_the_import_would_do():
    dry = run(full_coop(), dry_run=True)
    assert errors_of(dry) == [] and dry.dry_run and not dry.imported
    assert all(n == 0 for n in table_counts().values())
    assert not Sequence.objects.filter(last_value__gt=0).exists()
    real = run(full_coop())
    assert (real.created, real.changed, real.statuses) == (dry.created, dry.changed, dry.statuses)


def test_one_bad_row_and_nothing_at_all_is_written():
    files_ = full_coop()
    files_["absences.csv"].append({"member_number": "1", "kind": "leave", "start": "2026-05-01", "end": "2026-04-01"})
    report = run(files_)
    assert errors_of(report) == ["absences.csv:3: end: The absence ends before it starts."]
    assert all(n == 0 for n in table_counts().values())


def test_an_error_found_by_a_service_while_writing_undoes_everything():
    files_ = full_coop()
    files_["absences.csv"].append({"member_number": "2", "kind": "exemption", "start": "2026-01-15", "end": "2026-03-01"})
    report = run(files_)
    assert errors_of(report) == ["absences.csv:3: start: Overlaps another exemption of this member (line 2)."]
    assert all(n == 0 for n in table_counts().values())


def test_qualifications_and_welcome_columns_are_checked_and_reported_as_not_imported_yet():
    files_ = coop([member_row(1, "Ada", "Lovelace", "ftop", welcomed_on="2025-02-01")],
                  qualifications_csv=[{"member_number": "1", "qualification": "leader", "since": "2025-03-01"},
                                      {"member_number": "1", "qualification": "cashier", "since": "2025-03-01", "until": "2025-01-01"}])
    files_["templates.csv"][0]["requirements"] = "leader:1;cashier:2"
    files_["templates.csv"][1]["welcome"] = "1"
    report = run(files_)
    assert errors_of(report) == ["qualifications.csv:3: until: The qualification ends before it starts."]
    del files_["qualifications.csv"][1]
    report = run(files_)
    assert errors_of(report) == []
    not_yet = "not imported yet: qualifications and welcome sessions arrive with issue 14"
    assert f"members.csv:2: welcomed_on: {not_yet}" in warnings_of(report)
    assert f"templates.csv:2: requirements: {not_yet}" in warnings_of(report)
    assert f"templates.csv:3: welcome: {not_yet}" in warnings_of(report)
    assert f"qualifications.csv: -: 1 rows read and checked, {not_yet}." in warnings_of(report)


def test_a_re_import_does_not_touch_the_details_of_a_member_who_left():
    assert errors_of(run(full_coop())) == []
    changed = full_coop()
    changed["members.csv"][2]["phone"] = "0699999999"
    report = run(changed)
    assert errors_of(report) == [] and report.summary == "0 created, 0 changed"
    assert "members.csv:4: phone: This member has left the coop: their details are not updated." in warnings_of(report)
