"""Every bad row is reported (not only the first) as `file:line: column: message`, and nothing is
written (CONTRACT.md §7). The header is line 1."""
import pytest

from members.barcodes import associate_barcode, member_barcode
from members.models import Member
from members.tests.factories import active_member
from shifts.models import ShiftTemplate

from .helpers import TODAY, errors_of, files, member_row, run, share_row, template_row, to_bytes, warnings_of

pytestmark = pytest.mark.django_db


def good(**changes):
    base = files(
        templates_csv=[template_row("A Lundi matin", capacity=2)],
        members_csv=[member_row(1, "Ada", "Lovelace", slot_template="A Lundi matin"), member_row(2, "Bob", "Marley", shift_type="ftop")],
        shares_csv=[share_row(1), share_row(2)],
    )
    base.update({k.replace("_csv", ".csv"): v for k, v in changes.items()})
    return base


def test_the_good_files_import():
    report = run(good())
    assert errors_of(report) == []
    assert Member.objects.count() == 2


def assert_refused(files_, *expected):
    before = Member.objects.count(), ShiftTemplate.objects.count()
    report = run(files_)
    for line in expected:
        assert line in errors_of(report), errors_of(report)
    assert (Member.objects.count(), ShiftTemplate.objects.count()) == before
    return report


def test_bad_emails_dates_and_choices_are_each_reported_and_nothing_is_written():
    assert_refused(
        good(members_csv=[
            member_row(1, email="not-an-email"),
            member_row(2, "Bob", "Marley", joined_on="2025-02-30"),
            member_row(3, "Cy", "Young", joined_on="03/01/2025"),
            member_row(4, "Di", "Prince", shift_type="flying"),
            member_row(5, "Ed", "Wood", joined_on="2026-03-05"),
            member_row(6, "Flo", "Rida", low_income="yes"),
        ], shares_csv=[]),
        "members.csv:2: email: Enter a valid e-mail address.",
        "members.csv:3: joined_on: Expected a date YYYY-MM-DD, got “2025-02-30”.",
        "members.csv:4: joined_on: Expected a date YYYY-MM-DD, got “03/01/2025”.",
        "members.csv:5: shift_type: Expected one of standard, ftop, got “flying”.",
        "members.csv:6: joined_on: The joining date cannot be in the future.",
        "members.csv:7: low_income: Expected 0 or 1, got “yes”.",
    )


def test_unknown_share_classes_and_templates():
    assert_refused(
        good(members_csv=[member_row(1, slot_template="Nowhere"), member_row(2, "Bob", "Marley", slot_week="B", slot_weekday="3", slot_start_time="09:00")],
             shares_csv=[share_row(1, share_class="Z"), share_row(2)]),
        "members.csv:2: slot_template: Unknown template: name one of templates.csv or of the database.",
        "members.csv:3: slot_week: No template starts then.",
        "shares.csv:2: share_class: Unknown share class: the classes are A, B.",
    )


def test_duplicate_numbers_emails_and_barcodes():
    card = "2990000000019"
    assert_refused(
        good(members_csv=[member_row(1, card_barcode=card), member_row(1, "Bob", "Marley"), member_row(3, "Ada", "Lovelace", email="ada.lovelace.1@example.org"),
                          member_row(4, "Cy", "Young", card_barcode=card)],
             shares_csv=[], associates_csv=[{"member_number": "4", "first_name": "Zed", "last_name": "Young", "card_barcode": card}]),
        "members.csv:3: member_number: Duplicate member number (line 2).",
        "members.csv:4: email: Duplicate e-mail address (line 2).",
        "members.csv:5: card_barcode: Duplicate card barcode (members.csv line 2).",
        "associates.csv:2: card_barcode: Duplicate card barcode (members.csv line 2).",
    )


def test_numbers_and_cards_already_in_the_database():
    someone = active_member(email="someone@example.org", first_name="Some", last_name="One")
    report = assert_refused(
        good(members_csv=[member_row(1, "Ada", "Lovelace", email="ada@example.org"),
                          member_row(7, "Bob", "Marley", card_barcode=someone.card_barcode),
                          member_row(8, "Cy", "Young", email="someone@example.org")], shares_csv=[]),
        "members.csv:2: member_number: Member 000001 of the database is Some One <someone@example.org>: this row names someone else.",
        "members.csv:3: card_barcode: A code starting 0420 is the card of the member whose number it carries (0420000000013 is member 000001's).",
        "members.csv:4: email: This e-mail address belongs to member 000001: give that number, or leave member_number empty.",
    )
    assert report.rows["members.csv"] == 3


def test_bad_ean13_check_digits_and_reserved_prefixes():
    assert_refused(
        good(members_csv=[member_row(1, card_barcode="2990000000018"), member_row(2, "Bob", "Marley", card_barcode=associate_barcode(5)),
                          member_row(3, "Cy", "Young", card_barcode=member_barcode(9)), member_row(4, "Di", "Prince", card_barcode="12345")],
             shares_csv=[], associates_csv=[{"member_number": "1", "first_name": "Al", "last_name": "Lovelace", "card_barcode": member_barcode(1)}]),
        "members.csv:2: card_barcode: Not a valid EAN-13 barcode (13 digits and a correct check digit).",
        "members.csv:3: card_barcode: Codes starting 0421 are the cards of household associates.",
        "members.csv:4: card_barcode: A code starting 0420 is the card of the member whose number it carries (0420000000099 is member 000009's).",
        "members.csv:5: card_barcode: Not a valid EAN-13 barcode (13 digits and a correct check digit).",
        "associates.csv:2: card_barcode: Codes starting 0420 are the cards of members; leave it empty to make one.",
    )


def test_positive_standard_counters_and_implausible_counters():
    assert_refused(
        good(members_csv=[member_row(1, counter_standard="2"), member_row(2, "Bob", "Marley", shift_type="ftop", counter_ftop="-540")]),
        "members.csv:2: counter_standard: The standard counter is never above 0 (banked shifts go to counter_ftop).",
        "members.csv:3: counter_ftop: At least -100.",
    )


def test_a_slot_over_capacity_names_the_rows_beyond_it():
    rows = [member_row(n, f"P{n}", "Person", slot_template="A Lundi matin") for n in range(1, 5)]
    assert_refused(
        good(members_csv=rows, shares_csv=[share_row(n) for n in range(1, 5)]),
        "members.csv:4: slot_template: Over capacity: template “A Lundi matin” has 2 places, all taken by the database and the lines above.",
        "members.csv:5: slot_template: Over capacity: template “A Lundi matin” has 2 places, all taken by the database and the lines above.",
    )


def test_rows_for_members_not_in_the_files():
    assert_refused(
        good(shares_csv=[share_row(1), share_row(9)],
             associates_csv=[{"member_number": "8", "first_name": "Al", "last_name": "Nobody"}],
             absences_csv=[{"member_number": "7", "kind": "leave", "start": "2026-03-10", "end": "2026-04-20"}],
             extensions_csv=[{"member_number": "6", "granted_on": "2026-03-01", "start": "2026-03-01", "end": "2026-03-28"}]),
        "shares.csv:3: member_number: No member 000009 in members.csv.",
        "associates.csv:2: member_number: No member 000008 in members.csv.",
        "absences.csv:2: member_number: No member 000007 in members.csv.",
        "extensions.csv:2: member_number: No member 000006 in members.csv.",
    )


def test_an_absence_ending_before_it_starts_and_a_leave_without_end():
    assert_refused(
        good(absences_csv=[{"member_number": "1", "kind": "leave", "start": "2026-03-10", "end": "2026-03-01"},
                           {"member_number": "2", "kind": "leave", "start": "2026-03-10"},
                           {"member_number": "2", "kind": "holiday", "start": "2026-03-10"}]),
        "absences.csv:2: end: The absence ends before it starts.",
        "absences.csv:3: end: A leave has an end (an exemption may be open-ended).",
        "absences.csv:4: kind: Expected one of leave, exemption, got “holiday”.",
    )


def test_an_unknown_non_empty_column_is_an_error_and_an_empty_one_is_not():
    with_extra = good(members_csv=[{**member_row(1), "favourite_colour": "green"}, {**member_row(2, "Bob", "Marley"), "favourite_colour": ""}])
    assert_refused(with_extra, "members.csv:1: favourite_colour: Unknown column (with values on 1 rows): the columns of members.csv are "
                   "member_number, first_name, last_name, email, phone, address, postal_code, city, joined_on, shift_type, low_income, "
                   "card_barcode, work_start_date, slot_template, slot_week, slot_weekday, slot_start_time, slot_start_date, counter_standard, "
                   "counter_ftop, alert_started_on, left_on, unsubscribed, welcomed_on, blocked_reason, notes, birth_date.")
    empty_column = good(members_csv=[{**member_row(1), "favourite_colour": ""}, member_row(2, "Bob", "Marley")])
    assert errors_of(run(empty_column)) == []


def test_over_long_fields_and_amounts():
    assert_refused(
        good(members_csv=[member_row(1, "A" * 101), member_row(2, "Bob", "Marley", phone="0" * 33)],
             shares_csv=[share_row(1, amount_paid="100.001"), share_row(2, amount_paid="1,5")]),
        "members.csv:2: first_name: At most 100 characters (this one has 101).",
        "members.csv:3: phone: At most 32 characters (this one has 33).",
        "shares.csv:2: amount_paid: Expected an amount such as 100.00 (a dot, at most two decimals), got “100.001”.",
        "shares.csv:3: amount_paid: Expected an amount such as 100.00 (a dot, at most two decimals), got “1,5”.",
    )


def test_nul_bytes_malformed_lines_and_fields_beyond_the_csv_limit_are_line_numbered_errors():
    raw = dict(to_bytes(good()))
    raw["members.csv"] = (
        raw["members.csv"].rstrip(b"\n") + b"\n3,Nul\x00,Byte,nul@example.org,2025-01-10,ftop\n"
        + b'4,"Quote"d,Bad,q@example.org,2025-01-10,ftop\n'
        + b"5," + b"x" * 200_000 + b",Long,long@example.org,2025-01-10,ftop\n"
        + b"6,Fine,Row,fine@example.org,2025-01-10,ftop\n"
    )
    report = run(raw=list(raw.items()))
    errors = errors_of(report)
    assert "members.csv:4: first_name: A NUL byte is not allowed in a cell." in errors
    assert any(e.startswith("members.csv:5: -: Malformed CSV line") for e in errors), errors
    assert any(e.startswith("members.csv:6: -: Malformed CSV line: field larger than field limit") for e in errors), errors
    assert Member.objects.count() == 0


def test_a_file_that_is_not_utf8_and_a_missing_file():
    raw = dict(to_bytes(good()))
    raw["members.csv"] = raw["members.csv"] + "7,Zoé,Latin,z@example.org,2025-01-10,ftop\n".encode("latin-1")
    del raw["absences.csv"]
    errors = errors_of(run(raw=list(raw.items())))
    assert "members.csv:4: -: The file is not UTF-8 (save it as “CSV UTF-8”)." in errors
    assert "absences.csv: -: Missing file (give at least its header row)." in errors
    assert len(errors) == 2, errors  # no "missing members.csv", no "no member N" for every share


def test_a_missing_required_column_is_reported_once():
    rows = [{k: v for k, v in member_row(n, f"P{n}", "X").items() if k != "joined_on"} for n in (1, 2)]
    errors = errors_of(run(good(members_csv=rows)))
    assert errors.count("members.csv:1: joined_on: Missing required column.") == 1
    assert not any(e.endswith("joined_on: Required.") for e in errors)


def test_shares_payments_and_instalments_are_checked():
    assert_refused(
        good(shares_csv=[share_row(1, amount_paid="150.00"), share_row(2, instalments="11"), share_row(2, subscribed_on="2026-04-01")],
             payments_csv=[{"member_number": "1", "share_class": "A", "subscribed_on": "2024-01-01", "amount": "10.00", "paid_on": "2024-01-01",
                            "payment_method": "cash"}]),
        "shares.csv:2: amount_paid: More than the subscription's amount (100.00).",
        "shares.csv:3: instalments: Choose between 1 and 10 instalments.",
        "shares.csv:4: subscribed_on: A subscription cannot be dated in the future.",
        "payments.csv:2: subscribed_on: No subscription in shares.csv for this member, class and date.",
    )


def test_payments_that_overpay_and_refunds_of_members_who_did_not_leave():
    payment = {"member_number": "1", "share_class": "A", "subscribed_on": "2025-01-10", "paid_on": "2025-01-10", "payment_method": "cash"}
    assert_refused(
        good(payments_csv=[{**payment, "amount": "60.00"}, {**payment, "amount": "60.00"}, {**payment, "amount": "-10.00"}]),
        "payments.csv:3: amount: This would overpay the subscription (or refund more than was paid).",
        "payments.csv:4: amount: A negative amount is the redemption of a member who left.",
    )


def test_slot_contradictions():
    assert_refused(
        good(members_csv=[member_row(1, shift_type="ftop", slot_template="A Lundi matin"),
                          member_row(2, "Bob", "Marley", left_on="2025-06-01", slot_template="A Lundi matin"),
                          member_row(3, "Cy", "Young", unsubscribed="1", slot_template="A Lundi matin"),
                          member_row(4, "Di", "Prince", slot_template="A Lundi matin", slot_week="B")], shares_csv=[]),
        "members.csv:2: slot_template: Only standard members hold a regular slot.",
        "members.csv:3: slot_template: A member who left holds no regular slot.",
        "members.csv:4: slot_template: An unsubscribed member holds no regular slot.",
        "members.csv:5: slot_week: This does not match the template named in slot_template.",
    )


def test_template_rows_are_checked():
    assert_refused(
        good(templates_csv=[template_row("A Lundi matin"), template_row("a lundi MATIN", week="B"), template_row("Late", start="12:00", end="09:00"),
                            template_row("Bad", week="E", weekday="7", capacity="0")], members_csv=[member_row(1)], shares_csv=[]),
        "templates.csv:3: name: Template names are unique: line 2 has this name.",
        "templates.csv:4: end_time: A shift ends after it starts, on the same day.",
        "templates.csv:5: week: Expected one of A, B, C, D, got “E”.",
        "templates.csv:5: weekday: At most 6.",
        "templates.csv:5: capacity: At least 1.",
    )


def test_standard_members_without_slot_are_warned_about_not_refused():
    report = run(good(members_csv=[member_row(1), member_row(2, "Bob", "Marley", shift_type="ftop")]))
    assert errors_of(report) == []
    assert "members.csv:2: slot_template: A standard member without a regular slot is unsubscribed once 28 days have passed since their work start date." in warnings_of(report)
    assert Member.objects.get(member_number=1).status == "unsubscribed"


def test_every_invalid_row_is_reported_not_only_the_first():
    rows = [member_row(n, f"P{n}", "X", email=f"bad{n}") for n in range(1, 51)]
    report = run(good(members_csv=rows, shares_csv=[]))
    assert len([e for e in errors_of(report) if e.endswith("email: Enter a valid e-mail address.")]) == 50


def test_the_dates_of_the_import_are_today_and_before():
    assert_refused(
        good(members_csv=[member_row(1, alert_started_on="2026-03-05", counter_standard="-1", slot_template="A Lundi matin"),
                          member_row(2, "Bob", "Marley", shift_type="ftop", left_on=str(TODAY.replace(day=5)))]),
        "members.csv:2: alert_started_on: The alert episode cannot start in the future.",
        "members.csv:3: left_on: The leaving date is between the joining date and today.",
    )
