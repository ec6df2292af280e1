"""The admin shows assemblies read-only; its actions go through the services."""
import pytest
from django.test import Client

from assemblies.models import Assembly

from .conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_coordinator(db):
    user = make_user("coordadmin", "coordinators")
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_coordinators_see_assemblies_in_the_admin_but_cannot_edit_them(staff_coordinator, ag):
    assert staff_coordinator.get("/admin/assemblies/assembly/").status_code == 200
    page = staff_coordinator.get(f"/admin/assemblies/assembly/{ag.pk}/change/")
    assert page.status_code == 200 and b'name="title"' not in page.content
    assert staff_coordinator.get("/admin/assemblies/assembly/add/").status_code == 403
    assert staff_coordinator.get("/admin/assemblies/assemblyparameters/").status_code == 200
    assert staff_coordinator.get("/admin/assemblies/ballotbox/").status_code == 404
    assert staff_coordinator.get("/admin/assemblies/votedmark/").status_code == 404


def test_the_convene_action_calls_the_service_and_reports_a_refusal(staff_coordinator, ag, monkeypatch):
    import datetime

    monkeypatch.setattr("assemblies.admin.coop_today", lambda: datetime.date(2026, 3, 27))  # too late
    response = staff_coordinator.post("/admin/assemblies/assembly/", {"action": "convene", "_selected_action": [ag.pk]}, follow=True)
    assert "Too late to convene" in response.content.decode()
    assert Assembly.objects.get(pk=ag.pk).convened_at is None
    monkeypatch.setattr("assemblies.admin.coop_today", lambda: datetime.date(2026, 3, 2))
    staff_coordinator.post("/admin/assemblies/assembly/", {"action": "convene", "_selected_action": [ag.pk]})
    assert Assembly.objects.get(pk=ag.pk).convened_at is not None
