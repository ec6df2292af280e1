"""Issue 10, the admin (DOMAIN.md §8 "Rules go through the rules"): rule-bearing fields of a member
are read-only for every role, and the actions call the services. Walked as a staff coordinator,
a staff supply user and a superuser."""
import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from members.models import Member
from members.tests.factories import active_member
from shifts import services
from shifts.models import SlotAssignment

pytestmark = pytest.mark.django_db

RULE_BEARING = ["user", "joined_on", "shift_type", "low_income", "work_start_date", "work_start_date_manual", "membership",
                "status", "counter_standard", "counter_ftop", "blocked_reason", "left_on"]


def staff(username, *groups, superuser=False):
    users = get_user_model().objects
    if superuser:
        user = users.create_superuser(username=username, email=f"{username}@example.org", password="x-pass-word-1")
    else:
        user = users.create_user(username=username, email=f"{username}@example.org", password="x-pass-word-1", is_staff=True)
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(params=["coordinator", "superuser"])
def office(request):
    if request.param == "superuser":
        return staff("root", superuser=True)
    return staff("office", "coordinators")


@pytest.fixture
def member():
    return active_member(today=datetime.date(2026, 1, 5), shift_type="ftop", email="ftop@example.org")


def change_url(m):
    return f"/admin/members/member/{m.pk}/change/"


def test_rule_bearing_fields_are_shown_read_only(office, member):
    page = office.get(change_url(member)).content.decode()

    inputs = set(re.findall(r'name="([a-z_]+)"', page))
    assert not inputs & set(RULE_BEARING), inputs & set(RULE_BEARING)
    assert "first_name" in inputs and "email" in inputs


def test_posting_rule_bearing_fields_changes_nothing_but_contact_data_goes_through(office, member):
    superuser = get_user_model().objects.create_superuser(username="boss", email="boss@example.org", password="x-pass-word-1")
    data = {
        "first_name": "Renamed", "last_name": member.last_name, "email": "new@example.org", "phone": "", "address": "",
        "postal_code": "", "city": "", "birth_date": "", "notes": "",
        "shift_type": "standard", "low_income": "on", "blocked_reason": "sneaky", "user": superuser.pk,
        "counter_ftop": "40", "status": "up_to_date",
        "associates-TOTAL_FORMS": "0", "associates-INITIAL_FORMS": "0", "subscriptions-TOTAL_FORMS": "0",
        "subscriptions-INITIAL_FORMS": "0",
    }

    response = office.post(change_url(member), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert (member.first_name, member.email) == ("Renamed", "new@example.org")
    assert (member.shift_type, member.low_income, member.blocked_reason, member.user_id, member.counter_ftop) == ("ftop", False, "", None, 0)


def test_a_duplicate_email_in_the_admin_is_a_form_error_not_a_500(office, member):
    active_member(today=datetime.date(2026, 1, 5), email="taken@example.org")
    data = {"first_name": member.first_name, "last_name": member.last_name, "email": "taken@example.org",
            "associates-TOTAL_FORMS": "0", "associates-INITIAL_FORMS": "0", "subscriptions-TOTAL_FORMS": "0",
            "subscriptions-INITIAL_FORMS": "0"}

    response = office.post(change_url(member), data)

    assert response.status_code == 200
    assert "already uses this e-mail" in response.content.decode()
    member.refresh_from_db()
    assert member.email == "ftop@example.org"


def act(client, action, members, **fields):
    return client.post("/admin/members/member/", {"action": action, "_selected_action": [m.pk for m in members], "apply": "1", **fields})


def test_the_block_action_asks_for_a_reason_then_calls_the_service(office, member):
    form = office.post("/admin/members/member/", {"action": "block_members", "_selected_action": [member.pk]})
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()

    act(office, "block_members", [member], reason="Rude to a cashier")
    member.refresh_from_db()
    assert (member.status, member.blocked_reason) == ("blocked", "Rude to a cashier")
    assert member.status_changes.filter(to_status="blocked").exists()

    act(office, "unblock_members", [member], reason="apologised")
    member.refresh_from_db()
    assert (member.status, member.blocked_reason) == ("up_to_date", "")


def test_the_switch_action_follows_the_rules(office, member):
    tpl = services.template_create(name="A-Mon", week="A", weekday=0, start_time=datetime.time(9), end_time=datetime.time(12), capacity=6)
    services.correction_write(member=member, counter="ftop", points=-1, reason="missed", today=datetime.date(2026, 2, 1))

    refused = act(office, "switch_shift_type", [member], shift_type="standard", template=tpl.pk)
    assert refused.status_code == 302
    member.refresh_from_db()
    assert member.shift_type == "ftop"  # owes a make-up

    services.correction_write(member=member, counter="ftop", points=1, reason="worked", today=datetime.date(2026, 2, 2))
    act(office, "switch_shift_type", [member], shift_type="standard", template=tpl.pk)
    member.refresh_from_db()
    assert member.shift_type == "standard"
    assert SlotAssignment.objects.filter(member=member, template=tpl, end_date__isnull=True).exists()


def test_the_assign_slot_action_calls_the_service(office):
    m = active_member(today=datetime.date(2026, 1, 5), email="std@example.org")
    tpl = services.template_create(name="B-Tue", week="B", weekday=1, start_time=datetime.time(9), end_time=datetime.time(12), capacity=6)

    act(office, "assign_slot", [m], template=tpl.pk, start_date="")

    assert SlotAssignment.objects.filter(member=m, template=tpl).exists()


def test_supply_staff_cannot_open_or_act_on_members(member):
    supply = staff("stock", "supply")

    assert supply.get(change_url(member)).status_code == 403
    act(supply, "block_members", [member], reason="no")
    member.refresh_from_db()
    assert member.blocked_reason == ""
    assert supply.get("/admin/members/member/").status_code == 403


def test_the_user_link_cannot_be_set_through_the_admin_even_by_a_superuser(member):
    root = staff("root", superuser=True)
    other = get_user_model().objects.create_user(username="someone", password="x-pass-word-1")

    root.post(change_url(member), {"first_name": member.first_name, "last_name": member.last_name, "email": member.email,
                                   "user": other.pk, "associates-TOTAL_FORMS": "0", "associates-INITIAL_FORMS": "0",
                                   "subscriptions-TOTAL_FORMS": "0", "subscriptions-INITIAL_FORMS": "0"})

    assert Member.objects.get(pk=member.pk).user_id is None
