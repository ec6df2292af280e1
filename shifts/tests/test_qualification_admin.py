"""The admin writes qualifications, grants and template seats through the services (DOMAIN.md §8)."""
import datetime

import pytest
from django.test import Client

from members.models import MemberEvent, MemberQualification, Qualification
from shifts.models import ShiftRequirement

from .conftest import generate, make_template, make_user, working_member

pytestmark = pytest.mark.django_db

WED = datetime.date(2026, 3, 4)


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(make_user("root", superuser=True))
    return client


def template_post(template, **extra):
    data = {
        "name": template.name, "week": template.week, "weekday": template.weekday,
        "start_time": template.start_time.strftime("%H:%M"), "end_time": template.end_time.strftime("%H:%M"),
        "capacity": template.capacity, "required_skill": "", "leader": "", "active": "on",
        "slots-TOTAL_FORMS": "0", "slots-INITIAL_FORMS": "0", "slots-MIN_NUM_FORMS": "0", "slots-MAX_NUM_FORMS": "0",
        "requirements-TOTAL_FORMS": "0", "requirements-INITIAL_FORMS": "0", "requirements-MIN_NUM_FORMS": "0",
        "requirements-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_template_seats_set_in_the_admin_reach_its_future_shifts(admin_client):
    leader = Qualification.objects.get(code="leader")
    template = make_template("Till", capacity=3)
    generate(start=datetime.date.today(), days=60)
    data = template_post(template, **{
        "requirements-TOTAL_FORMS": "1", "requirements-0-qualification": str(leader.pk), "requirements-0-seats": "1",
        "requirements-0-position": "0", "requirements-0-template": str(template.pk),
    })
    response = admin_client.post(f"/admin/shifts/shifttemplate/{template.pk}/change/", data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert list(template.requirements.values_list("qualification__code", "seats")) == [("leader", 1)]
    assert ShiftRequirement.objects.filter(shift__template=template, qualification=leader).exists()


def test_too_many_qualified_seats_in_the_admin_is_a_form_error(admin_client):
    leader = Qualification.objects.get(code="leader")
    template = make_template("Till", capacity=2)
    data = template_post(template, **{
        "requirements-TOTAL_FORMS": "1", "requirements-0-qualification": str(leader.pk), "requirements-0-seats": "5",
        "requirements-0-position": "0", "requirements-0-template": str(template.pk),
    })
    response = admin_client.post(f"/admin/shifts/shifttemplate/{template.pk}/change/", data)
    assert response.status_code == 200
    assert not template.requirements.exists()


def test_a_grant_added_in_the_admin_is_logged_and_a_revoke_action_goes_through_the_service(admin_client):
    member = working_member("Adm")
    leader = Qualification.objects.get(code="leader")
    response = admin_client.post("/admin/members/memberqualification/add/", {
        "member": member.pk, "qualification": leader.pk, "since": "2025-01-01", "until": "", "note": "Training",
    })
    assert response.status_code == 302
    grant = MemberQualification.objects.get(member=member)
    assert MemberEvent.objects.filter(member=member, kind="qualification_granted").exists()
    response = admin_client.post("/admin/members/memberqualification/", {"action": "revoke", "_selected_action": [grant.pk]})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_on is not None


def test_a_qualification_code_stays_once_created(admin_client):
    response = admin_client.post("/admin/members/qualification/add/", {"code": "forklift", "name": "Forklift", "description": ""})
    assert response.status_code == 302
    forklift = Qualification.objects.get(code="forklift")
    response = admin_client.post(f"/admin/members/qualification/{forklift.pk}/change/", {"code": "other", "name": "Truck", "description": "x"})
    assert response.status_code == 302
    forklift.refresh_from_db()
    assert (forklift.code, forklift.name) == ("forklift", "Truck")


def test_the_welcome_date_is_read_only_in_the_members_admin(admin_client):
    member = working_member("Ro")
    page = admin_client.get(f"/admin/members/member/{member.pk}/change/")
    assert "welcomed_on" not in page.context["adminform"].form.fields
    assert "welcomed_on" in page.context["adminform"].readonly_fields
