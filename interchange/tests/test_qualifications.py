"""Qualifications, qualified seats and welcome sessions in the interchange files (CONTRACT.md §7,
DOMAIN.md §9): `qualifications.csv`, the `requirements` and `welcome` columns of `templates.csv`
and `welcomed_on` of `members.csv`, imported through the members and shifts services, checked
row by row, idempotent, exported back."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from interchange.export import coop_export
from members import qualifications as quals
from members import services as member_services
from members.models import CoopParameters, Member, MemberQualification
from members.tests.factories import MemberFactory, active_member, qualification
from shifts import selectors as shift_selectors
from shifts import services as shift_services
from shifts.models import Registration, Shift, ShiftRequirement, ShiftTemplate, SlotAssignment

from .helpers import (
    TODAY,
    D,
    errors_of,
    files,
    generated,
    member_objects,
    member_row,
    run,
    run_tables,
    share_row,
    template_row,
    warnings_of,
)

pytestmark = pytest.mark.django_db
Day = datetime.date


def coop(members, qualifications=None, templates=None, **more):
    return files(
        templates_csv=templates if templates is not None else [
            template_row("A Lundi matin", capacity=6, requirements="leader:1;cashier:2"),
            template_row("A Samedi accueil", weekday=5, start="14:00", end="16:00", capacity=12, welcome="1"),
        ],
        members_csv=members,
        shares_csv=[share_row(int(m["member_number"])) for m in members],
        qualifications_csv=qualifications or [],
        **more,
    )


def grant(number, code, since, until=None) -> dict:
    return {"member_number": str(number), "qualification": code, "since": str(since), "until": str(until) if until else ""}


def member(number) -> Member:
    return Member.objects.get(member_number=number)


def seats_of(template: ShiftTemplate) -> str:
    return shift_selectors.requirements_texts([template.pk]).get(template.pk, "")


# --- what is imported ---------------------------------------------------------------------------

def test_grants_qualified_seats_welcome_sessions_and_welcome_dates_are_imported():
    report = run(coop(
        [member_row(1, "Ada", "Lovelace", slot_template="A Lundi matin", welcomed_on="2025-02-01"),
         member_row(2, "Bob", "Marley", "ftop")],
        [grant(1, "leader", "2025-03-01"), grant(1, "cashier", "2024-01-01", "2025-01-01"), grant(2, "cashier", TODAY + D(days=10)),
         grant(2, "reception", "2025-05-01", TODAY + D(days=100))],
    ))
    assert errors_of(report) == []
    assert not [w for w in warnings_of(report) if "not imported" in w]
    assert report.created["qualifications"] == 4
    monday, welcome = ShiftTemplate.objects.get(name="A Lundi matin"), ShiftTemplate.objects.get(name="A Samedi accueil")
    assert (seats_of(monday), monday.welcome) == ("leader:1;cashier:2", False)
    assert (seats_of(welcome), welcome.welcome) == ("", True)
    assert member(1).welcomed_on == Day(2025, 2, 1) and member(2).welcomed_on is None
    objects = member_objects()
    assert objects[1]["qualifications"] == ["leader"] and objects[1]["welcomed_on"] == "2025-02-01"
    assert objects[2]["qualifications"] == ["reception"]  # cashier only from a coming date
    assert quals.held_ids(member(2), TODAY + D(days=10)) == {qualification("cashier").pk, qualification("reception").pk}
    assert quals.held_ids(member(1), Day(2024, 6, 1)) == {qualification("cashier").pk}  # expired since, held then
    # The slot takes the seat its holder is trained for (DOMAIN.md §9), as slot_assign would.
    assert SlotAssignment.objects.get(member=member(1)).seat == qualification("leader")


def test_the_same_files_twice_create_and_change_nothing():
    files_ = coop([member_row(1, "Ada", "Lovelace", slot_template="A Lundi matin", welcomed_on="2025-02-01")],
                  [grant(1, "leader", "2025-03-01"), grant(1, "cashier", "2024-01-01", "2025-01-01")])
    assert errors_of(run(files_)) == []
    counts = (MemberQualification.objects.count(), ShiftTemplate.objects.count())
    again = run(files_)
    assert errors_of(again) == [] and again.summary == "0 created, 0 changed"
    assert (MemberQualification.objects.count(), ShiftTemplate.objects.count()) == counts


def test_a_grant_revoked_in_the_database_matches_the_exported_row_of_the_days_it_was_held():
    assert errors_of(run(coop([member_row(1, "Ada", "Lovelace", "ftop")], [grant(1, "leader", "2025-03-01")]))) == []
    quals.member_qualification_revoke(member=member(1), qualification=qualification("leader"), today=TODAY)
    exported = coop_export(today=TODAY)
    assert exported["qualifications.csv"][1:] == [["1", "leader", "2025-03-01", str(TODAY - D(days=1))]]
    again = run_tables(exported)
    assert errors_of(again) == [] and again.summary == "0 created, 0 changed"


def test_grants_for_members_of_the_database_alone_and_their_coming_seats_follow():
    """qualifications.csv may name members who are only in the database (a coop bringing its
    trainings in later); their coming registrations take the seat the rules now give: a refresher
    training puts a slot holder back on the slot's seat (`qualifications_changed`)."""
    template = shift_services.template_create(name="A Lundi matin", week="A", weekday=0, start_time=datetime.time(9),
                                              end_time=datetime.time(12), capacity=6)
    shift_services.template_requirements_set(template=template, requirements=[(qualification("leader"), 1)],
                                             now=shift_services.local_datetime(TODAY, datetime.time(0)))
    shift_services.shifts_generate(start=TODAY, end=TODAY + D(days=60))
    ada = active_member(today=Day(2025, 1, 10), shift_type="standard")
    expiry = TODAY + D(days=30)  # covers the A Monday 2026-03-30, not 2026-04-27
    quals.member_qualification_grant(member=ada, qualification=qualification("leader"), since=Day(2025, 1, 1), until=expiry, today=TODAY)
    shift_services.slot_assign(template=template, member=ada, start_date=TODAY, today=TODAY)

    def seats():
        return {r.shift.date <= expiry: r.seat_id for r in Registration.objects.filter(member=ada).select_related("shift")}

    leader = qualification("leader").pk
    assert seats() == {True: leader, False: None}  # after the expiry, an open seat
    refresher = files(members_csv=[], qualifications_csv=[grant(ada.member_number, "leader", expiry + D(days=1))])
    report = run(refresher)
    assert errors_of(report) == [] and report.created == {"qualifications": 1}
    assert seats() == {True: leader, False: leader}
    assert run(refresher).summary == "0 created, 0 changed"


def test_a_changed_requirement_or_welcome_flag_updates_the_template_and_its_future_shifts_only():
    assert errors_of(run(coop([member_row(1, "Ada", "Lovelace", "ftop")]))) == []
    monday, welcome = ShiftTemplate.objects.get(name="A Lundi matin"), ShiftTemplate.objects.get(name="A Samedi accueil")
    shift_services.shifts_generate(start=TODAY - D(days=28), end=TODAY + D(days=60))
    past = Shift.objects.filter(template=monday, date__lt=TODAY).first()
    coming = Shift.objects.filter(template=monday, date__gt=TODAY).first()
    later = Shift.objects.filter(template=welcome, date__gt=TODAY).first()
    assert past is not None and coming is not None and later.welcome
    changed = coop([member_row(1, "Ada", "Lovelace", "ftop")], templates=[
        template_row("A Lundi matin", capacity=6, requirements="cashier:1;leader:2", welcome="0"),
        template_row("A Samedi accueil", weekday=5, start="14:00", end="16:00", capacity=12, welcome="0"),
    ])
    dry = run(changed, dry_run=True)
    assert errors_of(dry) == [] and dry.changed == {"templates": 2}
    assert seats_of(monday) == "leader:1;cashier:2"  # a dry run writes nothing
    report = run(changed)
    assert errors_of(report) == [] and report.summary == "0 created, 2 changed"
    assert seats_of(monday) == "cashier:1;leader:2"
    assert not ShiftTemplate.objects.get(pk=welcome.pk).welcome
    codes = lambda shift: list(ShiftRequirement.objects.filter(shift=shift).order_by("position").values_list("qualification__code", "seats"))  # noqa: E731
    assert codes(coming) == [("cashier", 1), ("leader", 2)]
    assert codes(past) == [("leader", 1), ("cashier", 2)]  # past shifts keep what they had
    assert not Shift.objects.get(pk=later.pk).welcome
    assert run(changed).summary == "0 created, 0 changed"


def test_an_empty_requirements_cell_changes_nothing_and_says_so():
    assert errors_of(run(coop([member_row(1, "Ada", "Lovelace", "ftop")]))) == []
    report = run(coop([member_row(1, "Ada", "Lovelace", "ftop")], templates=[
        template_row("A Lundi matin", capacity=6, requirements=""),
        template_row("A Samedi accueil", weekday=5, start="14:00", end="16:00", capacity=12, welcome="1"),
    ]))
    assert errors_of(report) == [] and report.summary == "0 created, 0 changed"
    assert ("templates.csv:2: requirements: Empty: the template keeps its qualified seats (leader:1;cashier:2); "
            "an empty cell changes nothing.") in warnings_of(report)
    assert seats_of(ShiftTemplate.objects.get(name="A Lundi matin")) == "leader:1;cashier:2"


def test_a_slot_holder_left_only_a_seat_for_trained_members_keeps_it_with_a_warning():
    report = run(coop(
        [member_row(1, "Ada", "Lovelace", slot_template="A Lundi matin"), member_row(2, "Bob", "Marley", slot_template="A Lundi matin")],
        templates=[template_row("A Lundi matin", capacity=2, requirements="leader:1")],
    ))
    assert errors_of(report) == []
    assert ("members.csv:3: slot_template: Only seats for trained members (Shift leader) were left in this regular slot: the member "
            "keeps one without the qualification, as a holder whose qualification expired; the shift is flagged until a trained "
            "member takes it.") in warnings_of(report)
    assert dict(SlotAssignment.objects.values_list("member__member_number", "seat__code")) == {1: None, 2: "leader"}


def test_a_slot_on_generated_shifts_finds_a_seat_or_is_refused_naming_the_dates():
    template = shift_services.template_create(name="A Lundi matin", week="A", weekday=0, start_time=datetime.time(9),
                                              end_time=datetime.time(12), capacity=2)
    shift_services.template_requirements_set(template=template, requirements=[(qualification("leader"), 1)],
                                             now=shift_services.local_datetime(TODAY, datetime.time(0)))
    shift_services.shifts_generate(start=TODAY, end=TODAY + D(days=30))
    shift = Shift.objects.filter(template=template).order_by("date").first()
    shift_services.shift_book(shift=shift, member=active_member(today=Day(2025, 1, 10), shift_type="ftop"),
                              now=shift_services.local_datetime(TODAY, datetime.time(8)))  # takes the open seat
    files_ = files(templates_csv=[template_row("A Lundi matin", capacity=2, requirements="leader:1")],
                   members_csv=[member_row(50, "Ada", "Lovelace", slot_template="A Lundi matin")], shares_csv=[share_row(50)])
    report = run(files_)
    assert errors_of(report) == [
        f"members.csv:2: slot_template: The shift of this slot is already full on {shift.date}: start the slot after that, or free a seat first."
    ]
    files_["qualifications.csv"] = [grant(50, "leader", "2025-01-01")]
    report = run(files_)
    assert errors_of(report) == []
    assert Registration.objects.get(shift=shift, member__member_number=50).seat == qualification("leader")


@pytest.mark.parametrize("on", [True, False])
def test_with_welcome_before_booking_on_every_imported_member_is_welcomed_on_their_joining_date(on):
    """DOMAIN.md §9: "so does every imported member" (when the file gives no date)."""
    CoopParameters.objects.update_or_create(pk=1, defaults={"welcome_before_booking": on})
    report = run(coop([member_row(1, "Ada", "Lovelace", "ftop", joined_on="2024-05-02"),
                       member_row(2, "Bob", "Marley", "ftop", joined_on="2024-05-02", welcomed_on="2024-06-01")]))
    assert errors_of(report) == []
    assert (member(1).welcomed_on, member(2).welcomed_on) == ((Day(2024, 5, 2) if on else None), Day(2024, 6, 1))
    note = ("members.csv: welcomed_on: “Welcome before booking” is on: 1 member(s) without a welcome date are counted as welcomed "
            "on their joining date.")
    assert (note in warnings_of(report)) is on
    if on:  # and they may book at once
        shift_services.template_create(name="B", week="A", weekday=2, start_time=datetime.time(9), end_time=datetime.time(12), capacity=3)
        shift_services.shifts_generate(start=TODAY, end=TODAY + D(days=7))
        shift = Shift.objects.get(name="B")
        shift_services.shift_book(shift=shift, member=member(1), now=shift_services.local_datetime(TODAY, datetime.time(8)))


def test_a_member_already_there_keeps_the_earlier_welcome_date():
    assert errors_of(run(coop([member_row(1, "Ada", "Lovelace", "ftop", welcomed_on="2025-06-01")]))) == []
    earlier = run(coop([member_row(1, "Ada", "Lovelace", "ftop", welcomed_on="2025-03-01")]))
    assert errors_of(earlier) == [] and earlier.changed == {"welcomed": 1}
    assert member(1).welcomed_on == Day(2025, 3, 1)
    later = run(coop([member_row(1, "Ada", "Lovelace", "ftop", welcomed_on="2025-09-01")]))
    assert errors_of(later) == [] and later.summary == "0 created, 0 changed"
    assert "members.csv:2: welcomed_on: Differs from the database (2025-03-01): the earlier welcome date is kept." in warnings_of(later)
    assert member(1).welcomed_on == Day(2025, 3, 1)


# --- what is refused ----------------------------------------------------------------------------

def test_every_bad_qualification_row_is_reported_and_nothing_is_written():
    gone = MemberFactory()
    member_services.member_leave(member=gone, reason="Moved", today=TODAY)
    report = run(coop(
        [member_row(50, "Ada", "Lovelace", "ftop")],
        [grant(50, "forklift", "2025-01-01"),
         {"member_number": "50", "qualification": "leader", "since": "2025-02-30", "until": ""},
         grant(50, "cashier", "2025-03-01", "2025-01-01"),
         grant(7, "leader", "2025-01-01"),
         grant(gone.member_number, "leader", "2025-01-01"),
         {"member_number": "50", "qualification": "", "since": "", "until": "soon"},
         grant(50, "leader", "2025-01-01")],
    ))
    assert sorted(errors_of(report)) == [
        "qualifications.csv:2: qualification: Unknown qualification “forklift”: the codes are leader, cashier, reception "
        "(add one on the qualifications page first).",
        "qualifications.csv:3: since: Expected a date YYYY-MM-DD, got “2025-02-30”.",
        "qualifications.csv:4: until: The qualification ends before it starts.",
        "qualifications.csv:5: member_number: No member 000007 in members.csv or in the database.",
        "qualifications.csv:6: member_number: This member has left the coop: no new qualifications.",
        "qualifications.csv:7: qualification: Required.",
        "qualifications.csv:7: since: Required.",
        "qualifications.csv:7: until: Expected a date YYYY-MM-DD, got “soon”.",
    ]
    assert MemberQualification.objects.count() == 0 and Member.objects.count() == 1  # the member who left


def test_every_bad_requirement_and_welcome_cell_is_reported():
    holder = active_member(today=Day(2025, 1, 10), shift_type="standard")
    busy = shift_services.template_create(name="B Mardi", week="B", weekday=1, start_time=datetime.time(9), end_time=datetime.time(12), capacity=4)
    shift_services.slot_assign(template=busy, member=holder, start_date=TODAY, today=TODAY)
    shift_services.template_requirements_set(template=busy, requirements=[(qualification("leader"), 3)],
                                             now=shift_services.local_datetime(TODAY, datetime.time(0)))
    templates = [
        template_row("A1", capacity=6, requirements="leader"),
        template_row("A2", start="10:00", capacity=6, requirements="leader:0"),
        template_row("A3", start="11:00", capacity=6, requirements="leader:1;leader:2"),
        template_row("A4", start="12:00", end="13:00", capacity=2, requirements="leader:1;cashier:2"),
        template_row("A5", start="13:00", end="14:00", capacity=6, requirements="leader:1;forklift:1"),
        template_row("A6", start="14:00", end="15:00", capacity=6, welcome="yes"),
        template_row("A7", start="15:00", end="16:00", capacity=6, welcome="1"),
        template_row("B Mardi", week="B", weekday=1, capacity=4, welcome="1"),
        template_row("B Mardi soir", week="B", weekday=1, start="17:00", end="20:00", capacity=4),
    ]
    report = run(coop([member_row(50, "Ada", "Lovelace", slot_template="A7"), member_row(51, "Bob", "Marley", welcomed_on=str(TODAY + D(days=1)))],
                      templates=templates))
    report_b = run(coop([member_row(50, "Ada", "Lovelace", "ftop")], templates=[template_row("B Mardi", week="B", weekday=1, capacity=2)]))
    assert sorted(errors_of(report)) == sorted([
        "templates.csv:2: requirements: “leader”: write code:seats, e.g. leader:1: write the seats per qualification as leader:1;cashier:2.",
        "templates.csv:3: requirements: “leader:0”: write code:seats, e.g. leader:1: write the seats per qualification as leader:1;cashier:2.",
        "templates.csv:4: requirements: “leader” is named twice: write the seats per qualification as leader:1;cashier:2.",
        "templates.csv:5: requirements: 3 qualified seats do not fit in a capacity of 2.",
        "templates.csv:6: requirements: Unknown qualification “forklift”: the codes are leader, cashier, reception "
        "(add one on the qualifications page first).",
        "templates.csv:7: welcome: Expected 0 or 1, got “yes”.",
        "templates.csv:9: welcome: Members hold this regular slot (1): a welcome session has no slot holders.",
        "members.csv:2: slot_template: A welcome session is not a regular slot.",
        "members.csv:3: welcomed_on: The welcome date cannot be in the future.",
    ])
    assert errors_of(report_b) == ["templates.csv:2: capacity: The capacity cannot be under the template's qualified seats (leader:3)."]
    assert ShiftTemplate.objects.count() == 1 and Member.objects.count() == 1


# --- bulk -----------------------------------------------------------------------------------------

def test_grants_and_welcome_dates_cost_a_constant_number_of_queries_per_batch():
    def queries(members: int) -> int:
        tables = generated(members, seed=3)
        assert len(tables["qualifications.csv"]) > members // 10
        with CaptureQueriesContext(connection) as ctx:
            assert errors_of(run_tables(tables, dry_run=True)) == []
        return len(ctx.captured_queries)

    small, large = queries(60), queries(180)
    assert large - small < 20, (small, large)  # three times the members, grants and slots: the same statements


def test_the_standing_service_refuses_a_slot_on_a_welcome_session_and_seats_slots_by_the_rule():
    """`standing_import` checks what `slot_assign` checks, whoever calls it."""
    from django.core.exceptions import ValidationError

    welcome = shift_services.template_create(name="Accueil", week="A", weekday=5, start_time=datetime.time(14),
                                             end_time=datetime.time(16), capacity=10, welcome=True)
    till = shift_services.template_create(name="Caisse", week="A", weekday=2, start_time=datetime.time(9), end_time=datetime.time(12), capacity=3)
    shift_services.template_requirements_set(template=till, requirements=[(qualification("leader"), 1), (qualification("cashier"), 1)],
                                             now=shift_services.local_datetime(TODAY, datetime.time(0)))
    ada, bob, cy = (active_member(today=Day(2025, 1, 10), shift_type="standard") for _ in range(3))
    quals.member_qualification_grant(member=bob, qualification=qualification("cashier"), since=Day(2025, 1, 1), today=TODAY)
    with pytest.raises(ValidationError) as refused:
        shift_services.standing_import(slots=[{"member": ada, "template": welcome, "start_date": TODAY}], absences=[], extensions=[],
                                       openings=[], today=TODAY)
    assert refused.value.message_dict == {"0:slots:slot_template": ["A welcome session is not a regular slot."]}
    result = shift_services.standing_import(
        slots=[{"member": m, "template": till, "start_date": TODAY} for m in (ada, bob, cy)], absences=[], extensions=[], openings=[],
        today=TODAY,
    )
    assert dict(SlotAssignment.objects.values_list("member_id", "seat__code")) == {ada.pk: None, bob.pk: "cashier", cy.pk: "leader"}
    assert result["unqualified"] == [(2, qualification("leader").pk)]


def test_the_new_checks_speak_french():
    from django.utils import translation

    with translation.override("fr"):
        report = run(coop([member_row(50, "Ada", "Lovelace", "ftop", welcomed_on=str(TODAY + D(days=1)))],
                          [grant(50, "forklift", "2025-01-01")],
                          templates=[template_row("A1", capacity=6, requirements="leader:1;leader:2")]))
    assert sorted(errors_of(report)) == [
        "members.csv:2: welcomed_on: La date d’accueil ne peut pas être dans le futur.",
        "qualifications.csv:2: qualification: Qualification inconnue « forklift » : les codes sont leader, cashier, reception "
        "(ajoutez-la d’abord sur la page des qualifications).",
        "templates.csv:2: requirements: « leader » est indiqué deux fois : écrivez les places par qualification ainsi : leader:1;cashier:2.",
    ]


def test_a_nul_byte_or_an_over_long_cell_in_the_new_columns_is_a_line_numbered_error():
    report = run(coop([member_row(50, "Ada", "Lovelace", "ftop")], [grant(50, "lead\x00er", "2025-01-01")],
                      templates=[template_row("A1", capacity=6, requirements="leader:1;" * 200)]))
    assert sorted(errors_of(report)) == [
        "qualifications.csv:2: qualification: A NUL byte is not allowed in a cell.",
        "templates.csv:2: requirements: At most 1000 characters (this one has 1800).",
    ]
    assert Member.objects.count() == 0
