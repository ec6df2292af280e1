"""The member's data export (DOMAIN.md §8: "assembly attendance and proxies") and anonymisation:
what the assemblies app keeps about a member, and that nothing personal stays behind."""
import json

import pytest
from django.apps import apps
from django.db import models

from assemblies import selectors, services
from members import services as member_services

from .conftest import EVENING, TODAY, at, committed, convene, give, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(ag, people):
    """Chloé gave Alice her proxy, took it back, gave it to Bob; Alice carries David's; Alice
    signed in and voted for herself and David."""
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    with committed():
        services.proxy_revoke(assembly=ag, giver=people["chloe"], now=at(TODAY, 12))
    give(ag, people["chloe"], people["bob"])
    give(ag, people["david"], people["alice"])
    sign_in(ag, people["alice"])
    resolution = services.resolution_open(resolution=services.resolution_add(assembly=ag, text="Comptes 2025"), now=EVENING)
    services.votes_cast(resolution=resolution, voter=people["alice"], ballots=[
        {"choice": "against", "for_member": people["alice"].pk}, {"choice": "for", "for_member": people["david"].pk}])
    return ag


def test_the_export_section_holds_attendance_proxies_votes_cast_and_emails(history, people):
    section = selectors.member_export_section(people["alice"])
    json.dumps(section)  # JSON-serialisable as it is
    (attendance,) = section["assembly_attendance"]
    assert attendance["assembly"] == history.title and attendance["signed_in_at"] == EVENING.isoformat()
    received = sorted((p["giver"]["name"], p["revoked_at"] is not None) for p in section["proxies_received"])
    assert received == [("Chloé Petit", True), ("David Martin", False)]
    assert section["proxies_given"] == []
    assert [(v["resolution"], v["text"]) for v in section["votes_cast"]] == [(1, "Comptes 2025")]
    kinds = sorted(m["kind"] for m in section["assembly_emails"])
    assert kinds == ["convening", "proxy_given", "proxy_given", "proxy_revoked"]


def test_the_export_never_says_how_anyone_voted(history, people):
    text = json.dumps(selectors.member_export_section(people["alice"]))
    assert "against" not in text and '"for"' not in text and "choice" not in text


def test_the_export_of_a_giver_names_the_holder_and_nothing_of_others(history, people):
    section = selectors.member_export_section(people["chloe"])
    assert [(p["holder"]["name"], p["revoked_at"] is None) for p in section["proxies_given"]] == [
        ("Alice Bernard", False), ("Bob Durand", True)]
    assert section["proxies_received"] == [] and section["votes_cast"] == []
    assert "David" not in json.dumps(section)


def test_a_member_with_no_assembly_has_empty_lists(people):
    assert selectors.member_export_section(people["emma"]) == {
        "assembly_attendance": [], "proxies_given": [], "proxies_received": [], "votes_cast": [], "assembly_emails": []}


def test_anonymising_a_member_leaves_no_personal_data_in_the_assemblies_tables(history, people):
    """The assemblies app stores no name, address or free text about a member, only their id: the
    members app's anonymisation is enough (nothing to add assembly-side)."""
    chloe = people["chloe"]
    secrets = [chloe.first_name, chloe.last_name, chloe.email, chloe.card_barcode]
    member_services.member_leave(member=chloe, reason="Moved", today=TODAY)
    chloe.refresh_from_db()
    chloe.subscriptions.update(redeemed_on=TODAY)
    member_services.member_anonymise(member=chloe, today=TODAY)
    for model in apps.get_app_config("assemblies").get_models():
        text_fields = [f.name for f in model._meta.get_fields() if isinstance(f, (models.CharField, models.TextField))]
        for row in model.objects.values_list(*text_fields) if text_fields else []:
            for value in row:
                assert not any(secret and secret in str(value) for secret in secrets), (model.__name__, value)
    section = selectors.member_export_section(people["alice"])
    assert "Chloé" not in json.dumps(section)
