"""Qualifications, seats and welcome sessions on the pages (issue 14): the office's calendar,
dashboard, roster, attendance sheet and welcome desk; the member page and the qualification list;
/me/ and /me/shifts/; the understaffed call. Roles and constant queries included."""
import csv
import datetime
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from members import qualifications as quals
from members.models import CoopParameters, Member, MemberQualification, Qualification
from shifts import notifications, services
from shifts.models import Registration, SlotAssignment

from .conftest import NOW, TODAY, at, generate, make_template, make_user, shift_of, working_member

pytestmark = pytest.mark.django_db

WED = datetime.date(2026, 3, 4)
SAT = datetime.date(2026, 3, 7)


@pytest.fixture(autouse=True)
def page_clocks(clock, monkeypatch):
    for module in ("shifts.views_office", "shifts.views_member"):
        monkeypatch.setattr(f"{module}.clock_now", lambda: clock.now)
        monkeypatch.setattr(f"{module}.clock_today", lambda: clock.today)
    return clock


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def office(coordinator) -> Client:
    return web(coordinator)




@pytest.fixture
def till(leader):
    template = make_template("Till", capacity=3)
    services.template_requirements_set(template=template, requirements=[(leader, 1)], now=NOW)
    generate()
    return template


def grant(member, qualification, **kw):
    kw.setdefault("since", TODAY - datetime.timedelta(days=30))
    quals.member_qualification_grant(member=member, qualification=qualification, today=TODAY, **kw)
    return Member.objects.get(pk=member.pk)


def text(response) -> str:
    return response.content.decode()


# --- the office -------------------------------------------------------------------------------------------

def test_the_calendar_flags_no_leader_until_a_leader_books(office, till, leader):
    shift = shift_of(till, WED)
    page = text(office.get("/shifts/"))
    assert 'data-no-leader="leader"' in page and "No shift leader" in page
    services.shift_book(shift=shift, member=grant(working_member("Lea", shift_type=Member.ShiftType.FTOP), leader), now=NOW)
    assert 'data-no-leader="leader"' not in text(office.get("/shifts/"))


def test_the_calendar_stays_at_a_constant_number_of_queries_with_qualified_seats(office, till, leader):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert office.get("/shifts/").status_code == 200
        return len(queries)

    few = count()
    for weekday in (0, 1, 3, 4):
        other = make_template(f"Till {weekday}", weekday=weekday, capacity=3)
        services.template_requirements_set(template=other, requirements=[(leader, 1)], now=NOW)
    generate()
    services.shift_book(shift=shift_of(till, WED), member=grant(working_member("Lea", shift_type=Member.ShiftType.FTOP), leader), now=NOW)
    assert count() == few


def test_the_dashboard_lists_shifts_without_a_leader(office, till):
    response = office.get("/shifts/dashboard/")
    assert [s.pk for s in response.context["no_leader"]] == [shift_of(till, WED).pk]
    assert "No shift leader" in text(response)


def test_the_roster_shows_each_members_seat_and_qualifications(office, till, leader, cashier):
    shift = shift_of(till, WED)
    lea = grant(grant(working_member("Lea", shift_type=Member.ShiftType.FTOP), leader), cashier)
    services.shift_book(shift=shift, member=lea, now=NOW)
    page = text(office.get(f"/shifts/{shift.pk}/"))
    assert 'id="seat-summary"' in page and "Shift leader" in page and "Cashier" in page
    assert 'class="qualifications small"><span class="badge text-bg-light border">Shift leader</span>' in page


def test_the_attendance_sheet_lists_each_members_qualifications(office, till, leader):
    shift = shift_of(till, WED)
    services.shift_book(shift=shift, member=grant(working_member("Lea", shift_type=Member.ShiftType.FTOP), leader), now=NOW)
    services.shift_book(shift=shift, member=working_member("Plain", shift_type=Member.ShiftType.FTOP), now=NOW)
    response = office.get(f"/shifts/{shift.pk}/sheet.pdf")
    content = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "QUALIFICATIONS" in content and "Shift leader" in content
    assert "Shift leader: 1/1" in content


def test_the_sheet_warns_of_a_qualified_seat_without_a_qualified_member(office, till):
    response = office.get(f"/shifts/{shift_of(till, WED).pk}/sheet.pdf")
    content = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Qualified seat still without a qualified member" in content


def test_adding_a_member_on_a_named_seat_and_the_refusal_for_an_untrained_one(office, till, leader):
    shift = shift_of(till, WED)
    for index in range(2):
        services.shift_book(shift=shift, member=working_member(f"Open{index}", shift_type=Member.ShiftType.FTOP), now=NOW)
    plain = working_member("Plain", shift_type=Member.ShiftType.FTOP)
    response = office.post(f"/shifts/{shift.pk}/", {"action": "add", "add-member": plain.display_number, "add-seat": ""})
    assert response.status_code == 400 and "trained members" in text(response)
    assert 'name="add-reason"' not in text(response)  # the parameter is off: no confirmation offered
    CoopParameters.objects.filter(pk=CoopParameters.current().pk).update(coordinators_confirm_unqualified=True)
    response = office.post(f"/shifts/{shift.pk}/", {"action": "add", "add-member": plain.display_number, "add-seat": "leader",
                                                      "add-reason": "Trained on Monday"})
    assert response.status_code == 302
    registration = Registration.objects.get(shift=shift, member=plain)
    assert (registration.seat, registration.seat_reason) == (leader, "Trained on Monday")
    assert "confirmed without the qualification" in text(office.get(f"/shifts/{shift.pk}/"))


@pytest.fixture
def session(db, wednesday):
    template = make_template("Welcome", weekday=5, start=(10, 0), end=(11, 30), capacity=10)
    services.template_update(template=template, now=NOW, welcome=True)
    generate()
    return shift_of(template, SAT)


def test_the_welcome_desk_gives_a_newcomer_their_first_slot(office, session, wednesday, clock):
    newcomer = working_member("Newbie")
    services.shift_book(shift=session, member=newcomer, now=NOW)
    clock.set(at(SAT, 11, 35))
    page = office.get(f"/shifts/{session.pk}/")
    assert 'id="welcome-desk"' in text(page)
    assert [m.pk for m in page.context["welcome_form"].fields["member"].queryset] == [newcomer.pk]
    response = office.post(f"/shifts/{session.pk}/", {"action": "welcome", "welcome-member": newcomer.pk, "welcome-template": wednesday.pk})
    assert response.status_code == 302
    assert SlotAssignment.objects.get(member=newcomer).template == wednesday
    assert Member.objects.get(pk=newcomer.pk).welcomed_on == SAT


def test_the_welcome_desk_refusal_is_a_form_error(office, session, wednesday, clock):
    newcomer = working_member("Early")
    services.shift_book(shift=session, member=newcomer, now=NOW)
    response = office.post(f"/shifts/{session.pk}/", {"action": "welcome", "welcome-member": newcomer.pk, "welcome-template": wednesday.pk})
    assert response.status_code == 400 and not SlotAssignment.objects.filter(member=newcomer).exists()


# --- the members office ---------------------------------------------------------------------------------

def test_the_member_page_grants_and_revokes_qualifications(office, alice, leader):
    page = text(office.get(f"/members/{alice.pk}/"))
    assert 'id="qualifications"' in page and "Grant a qualification" in page
    response = office.post(f"/members/{alice.pk}/qualifications/grant/", {
        "qualification": leader.pk, "since": "2025-09-01", "until": "2027-08-31", "note": "Training",
    })
    assert response.status_code == 302
    page = text(office.get(f"/members/{alice.pk}/"))
    assert "expires on" in page and "Qualification granted" in page
    response = office.post(f"/members/{alice.pk}/qualifications/leader/revoke/", {"reason": "Moved away"})
    assert response.status_code == 302
    assert MemberQualification.objects.get(member=alice).revoke_reason == "Moved away"
    assert "Qualification revoked" in text(office.get(f"/members/{alice.pk}/"))


def test_a_bad_grant_is_a_form_error(office, alice, leader):
    response = office.post(f"/members/{alice.pk}/qualifications/grant/", {"qualification": leader.pk, "since": "2026-03-02",
                                                                          "until": "2026-03-01"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not MemberQualification.objects.exists()


def test_the_qualification_list_counts_holders_and_exports(office, alice, leader):
    grant(alice, leader, since=datetime.date(2020, 1, 1))
    page = office.get("/members/qualifications/")
    assert page.status_code == 200 and '/members/?qualification=leader">1</a>' in text(page)
    rows = list(csv.reader(io.StringIO(office.get("/members/qualifications/?_export=csv").content.decode())))
    assert rows[0][:4] == ["Code", "Name", "Description", "Held today by"]
    assert ["leader", "Shift leader"] == rows[[r[0] for r in rows].index("leader")][:2]
    assert office.post("/members/qualifications/new/", {"code": "forklift", "name": "Forklift"}).status_code == 302
    assert office.post("/members/qualifications/forklift/edit/", {"name": "Pallet truck"}).status_code == 302
    assert Qualification.objects.get(code="forklift").name == "Pallet truck"


def test_the_member_list_finds_members_qualified_today(office, alice, bob, leader):
    grant(alice, leader, since=datetime.date(2020, 1, 1))  # the members pages read the real clock
    grant(bob, leader, since=datetime.date(2020, 1, 1), until=datetime.date(2021, 1, 1))
    response = office.get("/members/", {"qualification": "leader"})
    assert [m.pk for m in response.context["table"].data] == [alice.pk]


@pytest.mark.parametrize("role", ["anonymous", "cooperator", "cashiers", "supply"])
def test_only_coordinators_reach_the_qualification_pages(role, alice, alice_user, leader, till):
    users = {"cooperator": alice_user, "cashiers": make_user("till", "cashiers"), "supply": make_user("sup", "supply")}
    client = Client() if role == "anonymous" else web(users[role])
    for path in ("/members/qualifications/", "/members/qualifications/new/", "/members/qualifications/leader/edit/",
                 f"/members/{alice.pk}/qualifications/grant/"):
        response = client.get(path)
        assert response.status_code == (302 if role == "anonymous" else 403), path
    response = client.post(f"/members/{alice.pk}/qualifications/grant/", {"qualification": leader.pk, "since": "2026-03-02"})
    assert response.status_code in (302, 403) and not MemberQualification.objects.exists()
    grant(alice, leader)
    client.post(f"/members/{alice.pk}/qualifications/leader/revoke/", {"reason": "x"})
    assert MemberQualification.objects.get(member=alice).revoked_on is None


# --- the member's own pages -------------------------------------------------------------------------------

def test_my_page_says_what_i_am_trained_for_and_when_it_expires(alice, alice_user, leader):
    from django.utils import timezone

    grant(alice, leader, until=timezone.localdate() + datetime.timedelta(days=100))  # the members pages read the real clock
    page = text(web(alice_user).get("/me/"))
    assert "What I am trained for" in page and "Shift leader" in page and "expires on" in page
    assert "Revoke" not in page


def test_my_page_says_welcome_first_when_the_coop_asks(alice, alice_user):
    CoopParameters.objects.filter(pk=CoopParameters.current().pk).update(welcome_before_booking=True)
    assert "Welcome first" in text(web(alice_user).get("/me/"))


def test_the_booking_page_says_which_seat_i_would_take_and_why(bob, bob_user, till, leader):
    page = text(web(bob_user).get("/me/shifts/"))
    assert "You would take an open seat. The Shift leader seats need a training." in page
    grant(bob, leader)
    page = text(web(bob_user).get("/me/shifts/"))
    assert "You would take a Shift leader seat: you are trained for it and one is free." in page
    assert "You are trained for it: your help is welcome." in page
    assert 'name="seat"' in page  # a leader seat or an open seat: the member may choose


def test_booking_a_named_seat_from_my_page(bob, bob_user, till, leader):
    grant(bob, leader)
    shift = shift_of(till, WED)
    response = web(bob_user).post(f"/me/shifts/{shift.pk}/book/", {"seat": "open"})
    assert response.status_code == 302
    assert Registration.objects.get(shift=shift, member=bob).seat_id is None
    client = web(bob_user)
    later = shift_of(till, datetime.date(2026, 4, 1))
    assert client.post(f"/me/shifts/{later.pk}/book/", {"seat": "nope"}).status_code == 302  # an unknown seat: a message
    assert client.post(f"/me/shifts/{later.pk}/book/", {"seat": "no\x00pe"}).status_code == 400  # bad bytes: refused upfront
    assert not Registration.objects.filter(member=bob, shift__date=datetime.date(2026, 4, 1)).exists()


def test_shifts_whose_free_seats_need_a_training_are_left_out_and_a_booking_says_why(bob, bob_user, till):
    shift = shift_of(till, WED)
    for index in range(2):
        services.shift_book(shift=shift, member=working_member(f"Open{index}", shift_type=Member.ShiftType.FTOP), now=NOW)
    client = web(bob_user)
    response = client.get("/me/shifts/")
    assert "their free seats need a training" in text(response)
    response = client.post(f"/me/shifts/{shift.pk}/book/", follow=True)
    assert "need a training you do not have" in text(response)


def test_until_welcomed_my_booking_page_offers_welcome_sessions_only(alice, alice_user, session):
    CoopParameters.objects.filter(pk=CoopParameters.current().pk).update(welcome_before_booking=True)
    response = web(alice_user).get("/me/shifts/")
    shown = [item["shift"].pk for week in response.context["weeks"] for day in week["days"] for item in day["shifts"]]
    assert shown == [s.pk for s in services.Shift.objects.filter(welcome=True, date__lte=response.context["last"]).order_by("start")]
    assert "Welcome first" in text(response)


# --- the understaffed call -------------------------------------------------------------------------------

def test_trained_flying_members_are_called_first_to_a_shift_without_a_leader(till, leader, mailoutbox):
    shift = shift_of(till, WED)
    plain = working_member("Aaron", shift_type=Member.ShiftType.FTOP)
    for index in range(2):  # the shift is not under-filled any more: only the leader seat is empty
        services.shift_book(shift=shift, member=working_member(f"Open{index}", shift_type=Member.ShiftType.FTOP), now=NOW)
    trained = grant(working_member("Zoe", shift_type=Member.ShiftType.FTOP), leader)
    assert notifications.understaffed_calls_send(today=TODAY, now=NOW) == 1
    assert mailoutbox[0].to == [trained.email]
    assert "A Shift leader seat is still empty: you are trained for it." in mailoutbox[0].body
    assert plain.email not in [m.to[0] for m in mailoutbox]


def test_on_an_understaffed_shift_trained_members_come_first_then_the_others(till, leader, mailoutbox):
    first = working_member("Aaron", shift_type=Member.ShiftType.FTOP)
    trained = grant(working_member("Zoe", shift_type=Member.ShiftType.FTOP), leader)
    assert notifications.understaffed_calls_send(today=TODAY, now=NOW) == 2
    assert [m.to[0] for m in mailoutbox] == [trained.email, first.email]
