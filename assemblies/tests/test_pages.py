"""The assembly pages for people: forms, the member's proxy and phone-vote pages, /me/, the desk,
the PDFs (read back with pypdf) and the exports."""
import datetime
import io
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from assemblies import services
from assemblies.models import Assembly, Proxy, VotedMark
from members.models import Member
from members.tests.factories import MemberFactory

from .conftest import EVENING, STARTS, TODAY, at, committed, convene, give, make_user, new_assembly, sign_in, voter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def messages_of(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


def test_coordinators_create_an_assembly_from_the_form(coordinator, people):
    response = browser(coordinator).post("/assemblies/new/", {
        "title": "AG 2026", "kind": "extraordinary", "convocation": "1", "starts_at": "2026-03-28T18:30",
        "place": "Gymnase", "agenda": "1. Statuts", "cutoff": "",
    })
    assembly = Assembly.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/assemblies/{assembly.pk}/"
    assert assembly.starts_at == STARTS and assembly.cutoff == datetime.date(2026, 3, 13)
    page = browser(coordinator).get(response["Location"]).content.decode()
    assert "Convene (e-mail every voter)" in page and "March 13, 2026" in page


def test_a_bad_form_shows_the_error_and_writes_nothing(coordinator):
    response = browser(coordinator).post("/assemblies/new/", {
        "title": "AG", "kind": "ordinary", "convocation": "1", "starts_at": "2026-03-28T18:30",
        "place": "Gymnase", "agenda": "1.", "cutoff": "2026-03-01",
    })
    assert response.status_code == 200
    assert "cannot be in the past" in response.content.decode()
    assert not Assembly.objects.exists()


def test_a_member_gives_their_proxy_by_number_and_last_name_and_revokes_it(ag, people, mailoutbox):
    convene(ag)
    mailoutbox.clear()
    alice = browser(people["alice"].user)
    bob = people["bob"]
    wrong = alice.post(f"/assemblies/{ag.pk}/proxy/", {"holder_number": bob.member_number, "holder_last_name": "Dupont"})
    assert wrong.status_code == 200 and "No member has this number and this last name." in wrong.content.decode()
    assert not Proxy.objects.exists()
    with committed():
        done = alice.post(f"/assemblies/{ag.pk}/proxy/", {"holder_number": bob.member_number, "holder_last_name": "durand"})
    assert done.status_code == 302
    assert Proxy.objects.get().holder == bob and [m.to for m in mailoutbox] == [[bob.email]]
    page = alice.get(f"/assemblies/{ag.pk}/proxy/").content.decode()
    assert "Bob Durand" in page and "Revoke my proxy" in page
    alice.post(f"/assemblies/{ag.pk}/proxy/", {"action": "revoke"})
    assert Proxy.objects.get().revoked_at is not None


def test_refusals_on_the_proxy_page_are_shown_not_raised(ag, people):
    convene(ag)
    give(ag, people["chloe"], people["bob"])
    give(ag, people["david"], people["bob"])
    response = browser(people["alice"].user).post(f"/assemblies/{ag.pk}/proxy/", {
        "holder_number": people["bob"].member_number, "holder_last_name": "Durand"})
    assert response.status_code == 200 and "the most a voter may carry" in response.content.decode()


def test_the_convening_link_sends_a_signed_out_member_to_the_login_page(ag):
    response = Client().get(f"/assemblies/{ag.pk}/proxy/")
    assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next=/assemblies/{ag.pk}/proxy/"


def test_me_shows_the_coming_assembly_with_the_proxy_link(ag, people):
    page = browser(people["alice"].user).get("/me/").content.decode()
    assert ag.title in page and f"/assemblies/{ag.pk}/proxy/" in page
    outsider_user = make_user("nina")
    outsider = MemberFactory(first_name="Nina", last_name="None", email="nina@example.org")  # no shares: no vote
    Member.objects.filter(pk=outsider.pk).update(user=outsider_user)
    assert ag.title not in browser(outsider_user).get("/me/").content.decode()


def test_me_shows_proxies_carried_and_the_vote_link_once_open(ag, people):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    page = browser(people["alice"].user).get("/me/").content.decode()
    assert "I carry the proxy of:" in page and "Chloé Petit" in page
    sign_in(ag, people["alice"])
    assert f"/assemblies/{ag.pk}/vote/" in browser(people["alice"].user).get("/me/").content.decode()


@pytest.fixture
def open_vote(ag, people, clock):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    sign_in(ag, people["alice"])
    clock.set(EVENING)
    resolution = services.resolution_add(assembly=ag, text="Approuver les comptes 2025")
    return services.resolution_open(resolution=resolution, now=EVENING)


def test_the_phone_page_votes_for_me_and_the_proxy_i_carry(open_vote, people):
    alice = browser(people["alice"].user)
    page = alice.get(f"/assemblies/{open_vote.assembly_id}/vote/").content.decode()
    assert "Approuver les comptes 2025" in page and "My vote" in page and "For Chloé Petit (proxy)" in page
    response = alice.post(f"/assemblies/{open_vote.assembly_id}/vote/", {
        "resolution": open_vote.pk, f"member_{people['alice'].pk}": "for", f"member_{people['chloe'].pk}": "against",
    })
    assert "Your vote is recorded" in " ".join(messages_of(response))
    assert VotedMark.objects.count() == 2
    page = alice.get(f"/assemblies/{open_vote.assembly_id}/vote/").content.decode()
    assert "All your votes on this resolution are cast." in page
    again = alice.post(f"/assemblies/{open_vote.assembly_id}/vote/", {"resolution": open_vote.pk, f"member_{people['alice'].pk}": "for"})
    assert "A vote was cast already" in " ".join(messages_of(again))
    assert VotedMark.objects.count() == 2


def test_a_stale_phone_page_cannot_vote_on_a_closed_resolution(open_vote, people):
    services.resolution_close(resolution=open_vote, now=EVENING)
    response = browser(people["alice"].user).post(f"/assemblies/{open_vote.assembly_id}/vote/", {
        "resolution": open_vote.pk, f"member_{people['alice'].pk}": "for"})
    assert "This vote is closed." in messages_of(response)
    assert not VotedMark.objects.exists()


def test_the_phone_page_asks_to_sign_in_first(open_vote, people):
    page = browser(people["bob"].user).get(f"/assemblies/{open_vote.assembly_id}/vote/").content.decode()
    assert "Sign in at the door with your member card first" in page


def test_the_desk_page_is_keyboard_first(ag, cashier):
    page = browser(cashier).get(f"/assemblies/{ag.pk}/desk/").content.decode()
    assert 'id="scan"' in page and "autofocus" in page and 'id="desk-texts"' in page
    assert f'data-sign-in="/api/v1/assemblies/{ag.pk}/sign-in/"' in page


def test_the_room_screen_hides_the_split_while_the_vote_is_open(open_vote, people):
    services.votes_cast(resolution=open_vote, voter=people["alice"], ballots=[{"choice": "for", "for_member": people["alice"].pk}])
    page = browser(people["bob"].user).get(f"/assemblies/{open_vote.assembly_id}/screen/").content.decode()
    assert "votes cast so far" in page and "Adopted" not in page
    services.resolution_close(resolution=open_vote, now=EVENING)
    page = browser(people["bob"].user).get(f"/assemblies/{open_vote.assembly_id}/screen/").content.decode()
    assert "Adopted" in page


def test_sign_in_sheet_lists_every_voter_with_the_proxies(ag, people, coordinator):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    give(ag, people["david"], people["alice"])
    text = pdf_text(browser(coordinator).get(f"/assemblies/{ag.pk}/sign-in.pdf"))
    assert "Provisional list" in text
    for member in people.values():
        assert member.last_name.upper() in text
    assert "Proxy given to Alice Bernard" in text
    sign_in(ag, people["bob"])
    text = pdf_text(browser(coordinator).get(f"/assemblies/{ag.pk}/sign-in.pdf"))
    assert "Provisional list" not in text and "Signed in at the desk, 18:40" in text


def test_minutes_say_the_quorum_the_counts_and_the_outcome(open_vote, people, coordinator):
    ag = open_vote.assembly
    sign_in(ag, people["bob"])
    services.votes_cast(resolution=open_vote, voter=people["alice"], ballots=[
        {"choice": "for", "for_member": people["alice"].pk}, {"choice": "for", "for_member": people["chloe"].pk}])
    services.votes_cast(resolution=open_vote, voter=people["bob"], ballots=[{"choice": "against", "for_member": people["bob"].pk}])
    services.resolution_close(resolution=open_vote, now=EVENING)
    tie = services.resolution_add(assembly=ag, text="Changer de fournisseur de pain")
    services.resolution_tally(resolution=tie, votes_for=1, votes_against=1, votes_abstain=1, now=EVENING)
    draft = pdf_text(browser(coordinator).get(f"/assemblies/{ag.pk}/minutes.pdf"))
    assert "Draft" in draft
    services.assembly_close(assembly=ag, now=EVENING + datetime.timedelta(hours=2))
    text = pdf_text(browser(coordinator).get(f"/assemblies/{ag.pk}/minutes.pdf"))
    assert "Draft" not in text
    assert "Quorum reached" in text and "2 voters present and 1 represented" in text
    assert "Approuver les comptes 2025" in text and "Adopted" in text
    assert "Changer de fournisseur de pain" in text and "Rejected" in text
    assert "BERNARD Alice" in text and "PETIT Chloé" in text


def test_members_read_the_minutes_once_the_assembly_is_closed(ag, people):
    alice = browser(people["alice"].user)
    sign_in(ag, people["alice"])
    assert alice.get(f"/assemblies/{ag.pk}/minutes.pdf").status_code == 403
    services.assembly_close(assembly=ag, now=EVENING)
    assert alice.get(f"/assemblies/{ag.pk}/minutes.pdf").status_code == 200


def test_voter_table_and_csv_in_a_constant_number_of_queries(ag, people, coordinator):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    client = browser(coordinator)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/assemblies/{ag.pk}/voters/")
    for n in range(8):
        voter(f"Extra{n}", "Voter")
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/assemblies/{ag.pk}/voters/")
    assert response.status_code == 200 and len(many.captured_queries) == len(few.captured_queries)
    csv_text = client.get(f"/assemblies/{ag.pk}/voters/?_export=csv").content.decode()
    assert "Alice Bernard (000001)" in csv_text.replace('"', "")  # Chloé's proxy goes to Alice


def test_csv_exports_are_formula_safe(coordinator, people):
    new_assembly(title="=HYPERLINK(1)")
    text = browser(coordinator).get("/assemblies/?_export=csv").content.decode()
    assert "'=HYPERLINK(1)" in text


def test_edit_after_convening_keeps_the_date(ag, people, coordinator):
    convene(ag)
    client = browser(coordinator)
    client.post(f"/assemblies/{ag.pk}/edit/", {
        "title": "AG 2026 (salle changée)", "kind": "extraordinary", "convocation": "2", "starts_at": "2026-04-30T18:30",
        "place": "Gymnase Ordener", "agenda": ag.agenda, "cutoff": "2026-04-01",
    })
    ag.refresh_from_db()
    assert (ag.title, ag.place, ag.kind, ag.convocation, ag.starts_at) == (
        "AG 2026 (salle changée)", "Gymnase Ordener", "ordinary", 1, STARTS)


def test_the_detail_page_offers_what_the_moment_allows(ag, people, coordinator, clock):
    client = browser(coordinator)
    page = client.get(f"/assemblies/{ag.pk}/").content.decode()
    assert "Convene (e-mail every voter)" in page and "Open the assembly" not in page
    clock.set(at(datetime.date(2026, 3, 14)))
    page = client.get(f"/assemblies/{ag.pk}/").content.decode()
    assert "Convene (e-mail every voter)" not in page and "Open the assembly" in page
    assert TODAY < datetime.date(2026, 3, 14)


def test_the_desk_texts_are_translated(ag, cashier):
    client = browser(cashier)
    client.cookies["django_language"] = "fr"
    response = client.get(f"/assemblies/{ag.pk}/desk/", HTTP_ACCEPT_LANGUAGE="fr")
    texts = json.loads(response.content.decode().split('id="desk-texts" type="application/json">')[1].split("</script>")[0])
    assert texts["signed_in"] == "Émargé·e"


def test_the_desk_accounts_list_leads_to_the_desk(ag, cashier, coordinator):
    assert f'href="/assemblies/{ag.pk}/desk/"' in browser(cashier).get("/assemblies/").content.decode()
    assert f'href="/assemblies/{ag.pk}/"' in browser(coordinator).get("/assemblies/").content.decode()


def test_messages_of_the_bureau_actions_are_in_the_users_language(ag, people, coordinator):
    client = browser(coordinator)
    response = client.post(f"/assemblies/{ag.pk}/convene/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Les e-mails de convocation partent vers chaque votant·e." in messages_of(response)
