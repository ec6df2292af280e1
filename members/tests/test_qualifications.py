"""Qualifications (DOMAIN.md §9): the list, dated grants and revokes (logged), the bulk import an
interchange uses, the welcome date and the "welcome before booking" switch."""
import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from coopmarket.errors import RuleViolation
from members import qualifications as quals
from members import services
from members.models import CoopParameters, Member, MemberEvent, MemberQualification, Qualification
from members.qualifications import Held, expires_on, held_on
from members.tests.factories import MemberFactory, qualification

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 3, 2)


@pytest.fixture
def leader(db):
    return qualification("leader", "Shift leader")


@pytest.fixture
def cashier(db):
    return qualification("cashier", "Cashier")


@pytest.fixture
def coordinator(db):
    user = get_user_model().objects.create_user(username="coord", password="pass-word-123")
    user.groups.add(Group.objects.get(name="coordinators"))
    return user


# --- the pure core ----------------------------------------------------------------------------------

def test_a_grant_covers_its_dates_both_ends_included():
    grant = Held(D(2026, 1, 1), D(2026, 6, 30))
    assert not grant.covers(D(2025, 12, 31))
    assert grant.covers(D(2026, 1, 1)) and grant.covers(D(2026, 6, 30))
    assert not grant.covers(D(2026, 7, 1))
    assert Held(D(2026, 1, 1)).covers(D(2099, 1, 1))


def test_a_revoked_grant_is_not_held_from_the_revoke_date():
    grant = Held(D(2026, 1, 1), None, revoked_on=D(2026, 3, 2))
    assert grant.covers(D(2026, 3, 1)) and not grant.covers(D(2026, 3, 2))
    assert grant.last_day == D(2026, 3, 1)


def test_expiry_is_the_end_of_the_unbroken_stretch_of_grants():
    first, refresher = Held(D(2025, 1, 1), D(2026, 1, 31)), Held(D(2026, 1, 15), D(2027, 1, 31))
    assert expires_on([first, refresher], D(2025, 6, 1)) == D(2027, 1, 31)
    # Day-to-day follow-ups join up; a gap does not.
    assert expires_on([Held(D(2025, 1, 1), D(2025, 12, 31)), Held(D(2026, 1, 1), D(2026, 12, 31))], D(2025, 3, 1)) == D(2026, 12, 31)
    assert expires_on([Held(D(2025, 1, 1), D(2025, 12, 30)), Held(D(2026, 1, 1), D(2026, 12, 31))], D(2025, 3, 1)) == D(2025, 12, 30)
    assert expires_on([first, Held(D(2026, 1, 10))], D(2025, 6, 1)) is None  # a grant with no expiry
    assert expires_on([first], D(2027, 1, 1)) is None  # not held that day
    assert held_on([first, refresher], D(2026, 12, 1)) and not held_on([first], D(2026, 12, 1))


# --- the list ------------------------------------------------------------------------------------------

def test_the_default_qualifications_come_with_the_migrations():
    assert set(Qualification.objects.values_list("code", flat=True)) >= {"leader", "cashier", "reception"}


def test_coordinators_add_and_rename_a_qualification_the_code_stays(coordinator):
    forklift = quals.qualification_create(code="forklift", name="Forklift", description="CACES 1", by=coordinator)
    quals.qualification_update(qualification=forklift, name="Pallet truck", by=coordinator)
    forklift.refresh_from_db()
    assert (forklift.code, forklift.name, forklift.description) == ("forklift", "Pallet truck", "CACES 1")


@pytest.mark.parametrize("code", ["Leader", "a b", "x:1", "a;b", "", "é", "x" * 21, "bad\x00"])
def test_a_qualification_code_is_a_short_lower_case_slug(code):
    with pytest.raises(ValidationError):
        quals.qualification_create(code=code, name="Some skill")


def test_a_code_is_unique_and_names_have_no_null_characters(leader):
    with pytest.raises(ValidationError):
        quals.qualification_create(code="leader", name="Another")
    with pytest.raises(ValidationError):
        quals.qualification_create(code="baker", name="Ba\x00ker")
    assert not Qualification.objects.filter(code="baker").exists()


# --- grants and revokes -------------------------------------------------------------------------------

def test_a_grant_is_held_from_its_date_and_logged(leader, coordinator):
    member = MemberFactory(joined_on=D(2025, 1, 1))
    grant = quals.member_qualification_grant(member=member, qualification=leader, since=D(2025, 9, 1), until=D(2026, 8, 31),
                                             today=TODAY, by=coordinator, note="Training of September")
    assert grant.granted_by == coordinator
    assert quals.held_ids(member, D(2025, 8, 31)) == set()
    assert quals.held_ids(member, D(2025, 9, 1)) == {leader.pk}
    assert quals.held_ids(member, D(2026, 9, 1)) == set()
    event = MemberEvent.objects.get(member=member, kind="qualification_granted")
    assert event.detail == "leader from 2025-09-01 until 2026-08-31" and event.author == coordinator


def test_granting_the_same_dates_twice_writes_nothing(leader):
    member = MemberFactory()
    quals.member_qualification_grant(member=member, qualification=leader, since=TODAY, today=TODAY)
    quals.member_qualification_grant(member=member, qualification=leader, since=TODAY, today=TODAY)
    assert MemberQualification.objects.filter(member=member).count() == 1
    assert MemberEvent.objects.filter(member=member, kind="qualification_granted").count() == 1


def test_an_expiry_before_the_start_is_refused_and_nothing_is_written(leader):
    member = MemberFactory()
    with pytest.raises(ValidationError):
        quals.member_qualification_grant(member=member, qualification=leader, since=TODAY, until=TODAY - datetime.timedelta(days=1), today=TODAY)
    assert not MemberQualification.objects.exists()


def test_a_member_who_left_is_not_granted_anything(leader):
    member = MemberFactory()
    services.member_leave(member=member, reason="Moved", today=TODAY)
    with pytest.raises(RuleViolation) as refused:
        quals.member_qualification_grant(member=member, qualification=leader, since=TODAY, today=TODAY)
    assert refused.value.code == "not_allowed"


def test_revoking_ends_the_qualification_from_today_with_who_and_why(leader, coordinator):
    member = MemberFactory()
    quals.member_qualification_grant(member=member, qualification=leader, since=D(2025, 1, 1), today=TODAY)
    quals.member_qualification_revoke(member=member, qualification=leader, today=TODAY, reason="Asked to stop", by=coordinator)
    grant = MemberQualification.objects.get(member=member)
    assert (grant.revoked_on, grant.revoke_reason, grant.revoked_by) == (TODAY, "Asked to stop", coordinator)
    assert quals.held_ids(member, TODAY - datetime.timedelta(days=1)) == {leader.pk}
    assert quals.held_ids(member, TODAY) == set()
    assert MemberEvent.objects.get(member=member, kind="qualification_revoked").detail == "leader: Asked to stop"


def test_revoking_also_cancels_a_grant_still_to_come(leader):
    member = MemberFactory()
    quals.member_qualification_grant(member=member, qualification=leader, since=TODAY + datetime.timedelta(days=10), today=TODAY)
    quals.member_qualification_revoke(member=member, qualification=leader, today=TODAY)
    assert quals.held_ids(member, TODAY + datetime.timedelta(days=20)) == set()


def test_revoking_what_the_member_does_not_hold_is_refused(leader):
    member = MemberFactory()
    quals.member_qualification_grant(member=member, qualification=leader, since=D(2025, 1, 1), until=D(2025, 12, 31), today=TODAY)
    assert not quals.holds_or_will(member, leader, TODAY)
    with pytest.raises(ValidationError):
        quals.member_qualification_revoke(member=member, qualification=leader, today=TODAY)


def test_the_member_page_rows_say_what_is_held_and_when_it_expires(leader, cashier):
    member = MemberFactory()
    quals.member_qualification_grant(member=member, qualification=cashier, since=D(2025, 1, 1), until=D(2026, 4, 30), today=TODAY)
    quals.member_qualification_grant(member=member, qualification=leader, since=D(2024, 1, 1), until=D(2025, 1, 1), today=TODAY)
    rows = {row["qualification"].code: row for row in quals.member_qualification_rows(member, today=TODAY)}
    assert rows["cashier"]["held"] and rows["cashier"]["expires_on"] == D(2026, 4, 30)
    assert not rows["leader"]["held"] and not rows["leader"]["revocable"]
    assert quals.held_codes_today(member, TODAY) == ["cashier"]


def test_holders_are_counted_on_a_date_without_members_who_left(leader):
    a, b, gone = MemberFactory(), MemberFactory(), MemberFactory()
    for member in (a, b, gone):
        quals.member_qualification_grant(member=member, qualification=leader, since=D(2025, 1, 1), today=TODAY)
    quals.member_qualification_grant(member=b, qualification=leader, since=D(2025, 6, 1), until=D(2027, 1, 1), today=TODAY)  # refresher
    services.member_leave(member=gone, reason="Moved", today=TODAY)
    assert quals.holders_count(TODAY) == {leader.pk: 2}
    assert quals.holders_count(D(2024, 12, 31)) == {}


# --- the bulk import an interchange uses ---------------------------------------------------------------

def test_the_bulk_import_grants_from_past_dates_all_or_nothing_and_twice_changes_nothing(leader, cashier):
    a, b = MemberFactory(), MemberFactory()
    rows = [
        {"member": a, "qualification": leader, "since": D(2024, 5, 1)},
        {"member": b, "qualification": cashier, "since": D(2025, 2, 1), "until": D(2026, 2, 1)},
    ]
    assert quals.member_qualifications_import(rows=rows, today=TODAY) == {"created": 2, "unchanged": 0}
    assert quals.member_qualifications_import(rows=rows, today=TODAY) == {"created": 0, "unchanged": 2}
    assert quals.held_ids(a, D(2024, 5, 1)) == {leader.pk}
    bad = [*rows, {"member": a, "qualification": cashier, "since": D(2025, 1, 2), "until": D(2025, 1, 1)}]
    with pytest.raises(ValidationError) as refused:
        quals.member_qualifications_import(rows=bad, today=TODAY)
    assert "2" in refused.value.message_dict
    assert MemberQualification.objects.count() == 2


def test_the_bulk_import_matches_grants_by_the_days_held_logs_each_and_writes_in_constant_queries(leader, cashier):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.signals import qualifications_changed

    a = MemberFactory()
    quals.member_qualification_grant(member=a, qualification=leader, since=D(2024, 5, 1), today=TODAY)
    quals.member_qualification_revoke(member=a, qualification=leader, today=TODAY)
    held = [{"member": a, "qualification": leader, "since": D(2024, 5, 1), "until": TODAY - datetime.timedelta(days=1)}]
    assert quals.member_qualifications_import(rows=held, today=TODAY) == {"created": 0, "unchanged": 1}  # what an export writes
    members = [MemberFactory() for _ in range(6)]
    heard = []
    qualifications_changed.connect(lambda sender, member, **kw: heard.append(member.pk), weak=False, dispatch_uid="probe")
    try:
        def grants(some):
            return [{"member": m, "qualification": q, "since": D(2025, 1, 1)} for m in some for q in (leader, cashier)]

        with CaptureQueriesContext(connection) as two:
            quals.member_qualifications_import(rows=grants(members[:2]), today=TODAY, notify=False)
        with CaptureQueriesContext(connection) as four:
            quals.member_qualifications_import(rows=grants(members[2:]), today=TODAY, notify=False)
        assert len(two.captured_queries) == len(four.captured_queries)
        assert heard == []
        quals.member_qualifications_import(rows=[{"member": a, "qualification": cashier, "since": D(2025, 1, 1)}], today=TODAY)
        assert heard == [a.pk]
    finally:
        qualifications_changed.disconnect(dispatch_uid="probe")
    assert MemberEvent.objects.filter(kind="qualification_granted", member__in=members).count() == 12


# --- the welcome date and "welcome before booking" -----------------------------------------------------

def test_the_welcome_date_keeps_the_earliest():
    member = MemberFactory()
    quals.member_welcomed_set(member=member, day=D(2026, 2, 1))
    quals.member_welcomed_set(member=member, day=D(2026, 2, 20))
    member.refresh_from_db()
    assert member.welcomed_on == D(2026, 2, 1)


def test_switching_welcome_before_booking_on_welcomes_existing_members_on_their_joining_date():
    old = MemberFactory(joined_on=D(2024, 4, 1))
    welcomed = MemberFactory(joined_on=D(2025, 1, 1))
    quals.member_welcomed_set(member=welcomed, day=D(2025, 1, 10))
    assert quals.welcome_before_booking_set(on=True, today=TODAY) == 1
    assert CoopParameters.current().welcome_before_booking
    assert Member.objects.get(pk=old.pk).welcomed_on == D(2024, 4, 1)
    assert Member.objects.get(pk=welcomed.pk).welcomed_on == D(2025, 1, 10)
    newcomer = MemberFactory(joined_on=TODAY)
    assert newcomer.welcomed_on is None
    # Switching it on again (already on) changes nobody.
    assert quals.welcome_before_booking_set(on=True, today=TODAY) == 0
    assert Member.objects.get(pk=newcomer.pk).welcomed_on is None
    quals.welcome_before_booking_set(on=False, today=TODAY)
    assert not CoopParameters.current().welcome_before_booking


def test_the_admin_switch_goes_through_the_service(client):
    member = MemberFactory(joined_on=D(2024, 4, 1))
    admin = get_user_model().objects.create_superuser(username="root", password="pass-word-123")
    client.force_login(admin)
    page = client.get("/admin/members/coopparameters/1/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, bool)}
    data.update({name: "on" for name, value in form.initial.items() if value is True})
    data["welcome_before_booking"] = "on"
    response = client.post("/admin/members/coopparameters/1/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert CoopParameters.current().welcome_before_booking
    assert Member.objects.get(pk=member.pk).welcomed_on == D(2024, 4, 1)


def test_the_data_export_holds_qualifications_and_the_welcome_date(leader):
    from members.selectors import export_member

    member = MemberFactory()
    quals.member_qualification_grant(member=member, qualification=leader, since=D(2025, 1, 1), today=TODAY)
    quals.member_welcomed_set(member=member, day=D(2025, 1, 5))
    data = export_member(Member.objects.get(pk=member.pk))
    assert data["welcomed_on"] == "2025-01-05"
    assert data["qualifications"] == [{"qualification": "leader", "since": "2025-01-01", "until": None, "revoked_on": None,
                                       "revoke_reason": "", "note": ""}]


def test_anonymising_erases_the_notes_and_reasons_of_the_members_grants(leader):
    member = MemberFactory(joined_on=D(2024, 1, 1))
    quals.member_qualification_grant(member=member, qualification=leader, since=D(2024, 2, 1), note="Trained by Paul", today=TODAY)
    quals.member_qualification_revoke(member=member, qualification=leader, today=TODAY, reason="Rude to newcomers")
    services.member_leave(member=member, reason="Moved", today=TODAY)
    services.member_anonymise(member=member, today=TODAY)
    grant = MemberQualification.objects.get(member=member)
    assert (grant.note, grant.revoke_reason) == ("", "")
    assert (grant.since, grant.revoked_on) == (D(2024, 2, 1), TODAY)  # the dates stay, like the ledgers


def test_welcome_dates_in_bulk_keep_the_earliest(leader):
    a, b, c = MemberFactory(), MemberFactory(), MemberFactory()
    quals.member_welcomed_set(member=b, day=D(2025, 1, 1))
    rows = [(Member.objects.get(pk=a.pk), D(2025, 6, 1)), (Member.objects.get(pk=b.pk), D(2025, 9, 1))]
    assert quals.members_welcomed_import(rows=rows) == 1
    assert Member.objects.get(pk=a.pk).welcomed_on == D(2025, 6, 1)
    assert Member.objects.get(pk=b.pk).welcomed_on == D(2025, 1, 1)
    assert Member.objects.get(pk=c.pk).welcomed_on is None


def test_the_grants_an_export_writes_give_back_the_same_days_held(leader, cashier):
    member = MemberFactory()
    quals.member_qualification_grant(member=member, qualification=leader, since=D(2024, 1, 1), today=TODAY)
    quals.member_qualification_grant(member=member, qualification=cashier, since=D(2025, 1, 1), until=D(2026, 12, 31), today=TODAY)
    quals.member_qualification_revoke(member=member, qualification=cashier, today=TODAY)
    quals.member_qualification_grant(member=member, qualification=cashier, since=TODAY + datetime.timedelta(days=30), today=TODAY)
    quals.member_qualification_revoke(member=member, qualification=cashier, today=TODAY)  # the coming one, never held
    assert list(quals.interchange_grants()) == [
        (member.pk, "leader", D(2024, 1, 1), None),
        (member.pk, "cashier", D(2025, 1, 1), TODAY - datetime.timedelta(days=1)),
    ]
