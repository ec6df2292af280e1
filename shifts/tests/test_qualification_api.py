"""The qualification API (CONTRACT.md §5 rows of issue 14): the list, grants and revokes, template
requirements and welcome, shifts with their seats, bookings naming a seat; every role over every
new endpoint; bad input is a 400 that writes nothing."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members import qualifications as quals
from members.models import Member, MemberQualification, Qualification
from shifts import services
from shifts.models import Registration, TemplateRequirement

from .conftest import NOW, TODAY, client_for, generate, make_template, make_user, shift_of, working_member

pytestmark = pytest.mark.django_db

WED = datetime.date(2026, 3, 4)




@pytest.fixture
def till(leader, cashier):
    template = make_template("Till", capacity=3)
    services.template_requirements_set(template=template, requirements=[(leader, 1)], now=NOW)
    generate()
    return template


# --- qualifications ---------------------------------------------------------------------------------

def test_any_signed_in_user_lists_qualifications_with_their_holders(alice_api, alice, leader):
    quals.member_qualification_grant(member=alice, qualification=leader, since=TODAY, today=TODAY)
    body = alice_api.get("/api/v1/qualifications/").json()
    rows = {row["code"]: row for row in body}
    assert rows["leader"]["holders"] == 1 and rows["leader"]["name"] == "Shift leader"
    assert alice_api.get("/api/v1/qualifications/leader/").json()["code"] == "leader"


def test_coordinators_create_and_rename_a_qualification(coord):
    response = coord.post("/api/v1/qualifications/", {"code": "forklift", "name": "Forklift", "description": "CACES"}, format="json")
    assert response.status_code == 201 and response.json()["code"] == "forklift"
    response = coord.patch("/api/v1/qualifications/forklift/", {"name": "Pallet truck"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Pallet truck"
    assert coord.post("/api/v1/qualifications/", {"code": "forklift", "name": "Again"}, format="json").status_code == 400


@pytest.mark.parametrize("body", [
    {"code": "Big Code", "name": "x"}, {"code": "a" * 21, "name": "x"}, {"code": "nul\x00", "name": "x"},
    {"code": "ok", "name": "N\x00"}, {"code": "ok", "name": "x" * 101}, {"code": "ok"}, {"name": "x"},
])
def test_bad_qualifications_are_a_400_and_write_nothing(coord, body):
    before = Qualification.objects.count()
    assert coord.post("/api/v1/qualifications/", body, format="json").status_code == 400
    assert Qualification.objects.count() == before


def test_coordinators_grant_and_revoke_a_members_qualification(coord, alice, alice_api, leader, clock):
    url = f"/api/v1/members/{alice.pk}/qualifications/"
    response = coord.post(url, {"qualification": "leader", "since": "2025-09-01", "until": "2027-08-31"}, format="json")
    assert response.status_code == 201
    assert response.json() | {"id": 0, "granted_at": ""} == {
        "id": 0, "qualification": "leader", "since": "2025-09-01", "until": "2027-08-31", "revoked_on": None, "revoke_reason": "",
        "note": "", "granted_at": "",
    }
    member = coord.get(f"/api/v1/members/{alice.pk}/").json()
    assert member["qualifications"] == ["leader"] and member["welcomed_on"] is None
    assert alice_api.get("/api/v1/members/me/").json()["qualifications"] == ["leader"]
    assert [g["qualification"] for g in alice_api.get(url).json()] == ["leader"]
    assert coord.delete(f"{url}leader/", {"reason": "Stopped"}, format="json").status_code == 204
    assert coord.get(f"/api/v1/members/{alice.pk}/").json()["qualifications"] == []
    assert coord.delete(f"{url}leader/").status_code == 404  # no longer held
    assert coord.delete(f"{url}nosuch/").status_code == 404


@pytest.mark.parametrize("body", [
    {"qualification": "nosuch"}, {"qualification": "leader\x00"}, {"qualification": 12}, {},
    {"qualification": "leader", "since": "2026-03-02", "until": "2026-03-01"}, {"qualification": "leader", "since": "yesterday"},
    {"qualification": "leader", "note": "x" * 300},
])
def test_bad_grants_are_a_400_and_write_nothing(coord, alice, leader, body, clock):
    assert coord.post(f"/api/v1/members/{alice.pk}/qualifications/", body, format="json").status_code == 400
    assert not MemberQualification.objects.exists()


def test_a_grant_defaults_to_today(coord, alice, leader, clock):
    response = coord.post(f"/api/v1/members/{alice.pk}/qualifications/", {"qualification": "leader"}, format="json")
    assert response.json()["since"] == TODAY.isoformat()


def test_the_member_list_stays_at_a_constant_number_of_queries_with_qualifications(coord, leader, clock):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert coord.get("/api/v1/members/").status_code == 200
        return len(queries)

    first = working_member("One")
    quals.member_qualification_grant(member=first, qualification=leader, since=TODAY, today=TODAY)
    few = count()
    for n in range(6):
        member = working_member(f"More{n}")
        quals.member_qualification_grant(member=member, qualification=leader, since=TODAY, today=TODAY)
    assert count() == few


# --- templates and shifts ---------------------------------------------------------------------------

def test_a_template_takes_requirements_and_welcome_and_its_future_shifts_follow(coord, wednesday, calendar, clock, leader):
    response = coord.patch(f"/api/v1/shift-templates/{wednesday.pk}/", {
        "requirements": [{"qualification": "leader", "seats": 1}], "welcome": False,
    }, format="json")
    assert response.status_code == 200
    assert response.json()["requirements"] == [{"qualification": "leader", "seats": 1}]
    shift = coord.get(f"/api/v1/shifts/{calendar.pk}/").json()
    assert shift["requirements"] == [{"qualification": "leader", "seats": 1}]
    assert (shift["seats_free"], shift["open"], shift["no_leader"]) == ({"leader": 1}, 1, True)


def test_creating_a_welcome_template_with_requirements(coord, leader, clock):
    response = coord.post("/api/v1/shift-templates/", {
        "name": "Welcome", "week": "B", "weekday": 5, "start_time": "10:00", "end_time": "11:30", "capacity": 10,
        "welcome": True, "requirements": [{"qualification": "leader", "seats": 1}],
    }, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["welcome"] is True and response.json()["requirements"] == [{"qualification": "leader", "seats": 1}]


@pytest.mark.parametrize("requirements", [
    [{"qualification": "leader", "seats": 5}], [{"qualification": "nosuch", "seats": 1}], [{"qualification": "leader", "seats": -1}],
    [{"qualification": "leader", "seats": 1}, {"qualification": "leader", "seats": 1}], "leader:1", [{"seats": 1}],
])
def test_bad_requirements_are_a_400_and_change_nothing(coord, wednesday, leader, requirements, clock):
    response = coord.patch(f"/api/v1/shift-templates/{wednesday.pk}/", {"requirements": requirements}, format="json")
    assert response.status_code == 400
    assert not TemplateRequirement.objects.exists()


def test_the_shift_list_carries_seats_at_a_constant_number_of_queries(coord, till, clock):
    def count():
        with CaptureQueriesContext(connection) as queries:
            body = coord.get("/api/v1/shifts/", {"start": "2026-03-01", "end": "2026-04-30"}).json()
        return len(queries), body

    few, body = count()
    assert body["results"][0]["requirements"] == [{"qualification": "leader", "seats": 1}]
    for n in range(3):
        other = make_template(f"Till {n}", weekday=n, capacity=3)
        services.template_requirements_set(template=other, requirements=[(Qualification.objects.get(code="leader"), 1)], now=NOW)
    generate()
    many, body = count()
    assert body["count"] > 2 and many == few


# --- booking a seat ----------------------------------------------------------------------------------

def test_booking_returns_the_seat_and_a_member_may_name_an_open_seat(bob_api, bob, till, leader, clock):
    quals.member_qualification_grant(member=bob, qualification=leader, since=TODAY, today=TODAY)
    shift = shift_of(till, WED)
    response = bob_api.post(f"/api/v1/shifts/{shift.pk}/registrations/", {"seat": None}, format="json")
    assert response.status_code == 201 and response.json()["seat"] is None
    bob_api.delete(f"/api/v1/shifts/{shift.pk}/registrations/{bob.pk}/")
    response = bob_api.post(f"/api/v1/shifts/{shift.pk}/registrations/", {}, format="json")
    assert response.json()["seat"] == "leader"


def test_booking_answers_409_not_qualified_and_welcome_first(bob_api, bob, till, clock):
    shift = shift_of(till, WED)
    for name in ("Ann", "Ben"):
        services.shift_book(shift=shift, member=working_member(name, shift_type=Member.ShiftType.FTOP), now=NOW)
    response = bob_api.post(f"/api/v1/shifts/{shift.pk}/registrations/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "not_qualified")
    assert bob_api.post(f"/api/v1/shifts/{shift.pk}/registrations/", {"seat": "leader"}, format="json").json()["code"] == "not_qualified"
    quals.welcome_before_booking_set(on=True, today=TODAY)
    newcomer_user = make_user("newbie")
    newcomer = working_member("Newbie", shift_type=Member.ShiftType.FTOP, user=newcomer_user)
    plain = make_template("Plain", weekday=3)
    generate()
    other = shift_of(plain, datetime.date(2026, 3, 5))
    response = client_for(newcomer_user).post(f"/api/v1/shifts/{other.pk}/registrations/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "welcome_first")
    assert not Registration.objects.filter(member=newcomer).exists()


@pytest.mark.parametrize("seat", ["nosuch", "a\x00", 7, "x" * 50])
def test_booking_an_unknown_seat_is_a_400(bob_api, till, seat, clock):
    shift = shift_of(till, WED)
    assert bob_api.post(f"/api/v1/shifts/{shift.pk}/registrations/", {"seat": seat}, format="json").status_code == 400
    assert not Registration.objects.filter(shift=shift).exists()


def test_a_member_cannot_confirm_themself_without_the_qualification(bob_api, bob, till, clock):
    from members.models import CoopParameters

    CoopParameters.objects.filter(pk=CoopParameters.current().pk).update(coordinators_confirm_unqualified=True)
    shift = shift_of(till, WED)
    response = bob_api.post(f"/api/v1/shifts/{shift.pk}/registrations/", {"seat": "leader", "reason": "trust me"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "not_qualified")


def test_a_slot_assignment_names_its_seat(coord, alice, till, leader, clock):
    quals.member_qualification_grant(member=alice, qualification=leader, since=TODAY, today=TODAY)
    response = coord.post(f"/api/v1/shift-templates/{till.pk}/members/", {"member": alice.pk, "seat": None}, format="json")
    assert response.status_code == 201 and response.json()["seat"] is None


# --- every role over every new endpoint ------------------------------------------------------------------

ROLES = ["anonymous", "cooperator", "other_cooperator", "cashier", "supply", "coordinator"]


@pytest.fixture
def world(leader, clock):
    users = {role: make_user(role, *{"cashier": ["cashiers"], "supply": ["supply"], "coordinator": ["coordinators"]}.get(role, []))
             for role in ROLES if role != "anonymous"}
    own = working_member("Own", user=users["cooperator"])
    working_member("Other", user=users["other_cooperator"])
    quals.member_qualification_grant(member=own, qualification=leader, since=TODAY, today=TODAY)
    template = make_template("Perm", capacity=3)
    return users, own, template


ENDPOINTS = [
    # (method, path, body, who may: "signed_in" | "office" | "own", expected success)
    ("GET", "/api/v1/qualifications/", None, "signed_in", 200),
    ("GET", "/api/v1/qualifications/leader/", None, "signed_in", 200),
    ("POST", "/api/v1/qualifications/", {"code": "baker", "name": "Baker"}, "office", 201),
    ("PATCH", "/api/v1/qualifications/leader/", {"description": "Leads"}, "office", 200),
    ("GET", "/api/v1/members/{own}/qualifications/", None, "own", 200),
    ("POST", "/api/v1/members/{own}/qualifications/", {"qualification": "leader", "since": "2025-01-01"}, "office", 201),
    ("DELETE", "/api/v1/members/{own}/qualifications/leader/", None, "office", 204),
    ("PATCH", "/api/v1/shift-templates/{template}/", {"requirements": [{"qualification": "leader", "seats": 1}]}, "office", 200),
]


def expected(access: str, role: str, ok: int):
    if role == "anonymous":
        return {401, 403}
    if access == "signed_in" or role == "coordinator" or (access == "own" and role == "cooperator"):
        return {ok}
    return {403}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "access", "ok"), ENDPOINTS, ids=[f"{e[0]} {e[1]}" for e in ENDPOINTS])
def test_role_over_qualification_endpoint(world, role, method, path, body, access, ok):
    users, own, template = world
    client = client_for(users.get(role))
    before = (Qualification.objects.count(), MemberQualification.objects.filter(revoked_on__isnull=False).count(),
              MemberQualification.objects.count(), TemplateRequirement.objects.count())
    url = path.format(own=own.pk, template=template.pk)
    response = getattr(client, method.lower())(url, body, format="json") if body is not None else getattr(client, method.lower())(url)
    assert response.status_code in expected(access, role, ok), response.content[:200]
    if response.status_code >= 400:
        after = (Qualification.objects.count(), MemberQualification.objects.filter(revoked_on__isnull=False).count(),
                 MemberQualification.objects.count(), TemplateRequirement.objects.count())
        assert after == before


def test_the_schema_names_the_new_fields_precisely():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert {"qualifications", "welcomed_on"} <= set(components["WorkingMember"]["properties"])
    assert {"requirements", "seats_free", "open", "no_leader", "welcome"} <= set(components["Shift"]["properties"])
    assert components["Requirement"]["properties"]["seats"]["minimum"] == 0
    assert components["QualificationCreateRequest"]["properties"]["code"]["pattern"]
    assert "seat" in components["BookRequest"]["properties"]
