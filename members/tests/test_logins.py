"""Logins are not the office's to take (DOMAIN.md §8, issue 11).

- Changing a member's e-mail in the office (page or API) never changes the login of a staff,
  superuser or role-group account.
- Such an account cannot be linked to a member from the office (admin form, office form, API).
- A member's own login e-mail changes only after the member, signed in, confirms a signed link
  sent to the new address; the old address is told.
"""
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail, signing
from django.test import Client
from rest_framework.test import APIClient

from members import services
from members.models import Member
from members.tests.factories import TODAY, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def coordinator(*, staff=True):
    user = UserFactory(username="office", is_staff=staff)
    user.groups.add(Group.objects.get(name="coordinators"))
    return user


def privileged_login(kind: str):
    """A login the office must never change: superuser, staff, or one of the role groups."""
    users = get_user_model().objects
    if kind == "superuser":
        return users.create_superuser(username="root", email="root@example.org", password=PASSWORD)
    user = UserFactory(username=f"{kind}-account", email="ann@example.org", is_staff=kind == "staff")
    if kind in ("coordinators", "cashiers", "supply"):
        user.groups.add(Group.objects.get(name=kind))
    return user


def member_with_login(user, email="ann@example.org"):
    member = MemberFactory(email=email)
    Member.objects.filter(pk=member.pk).update(user=user)  # linked before this issue, or by a superuser in a shell
    return reload(member)


def link_in(message) -> str:
    return re.search(r"https?://\S+|/me/\S+", message.body).group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def confirmation_link(address: str) -> str:
    """The path of the confirmation link mailed to `address`."""
    return path_of(link_in([m for m in mail.outbox if m.to == [address]][0]))


def ann_with_a_login():
    member = MemberFactory(email="ann@example.org")
    return member, services.member_login_create(member=reload(member))


PRIVILEGED = ["superuser", "staff", "coordinators", "cashiers", "supply"]


@pytest.mark.parametrize("kind", PRIVILEGED)
def test_office_page_email_edit_never_changes_a_privileged_login(kind, client):
    login = privileged_login(kind)
    before = (login.username, login.email)
    member = member_with_login(login)
    client.force_login(coordinator())
    response = client.post(f"/members/{member.pk}/edit/", {
        "first_name": member.first_name, "last_name": member.last_name, "email": "attacker@example.net",
        "shift_type": "standard",
    })
    assert response.status_code == 302
    assert reload(member).email == "attacker@example.net"  # the member's contact address is the office's
    login.refresh_from_db()
    assert (login.username, login.email) == before
    assert not [m for m in mail.outbox if "attacker@example.net" in m.to]  # no confirmation link either


@pytest.mark.parametrize("kind", PRIVILEGED)
def test_api_email_edit_never_changes_a_privileged_login(kind):
    login = privileged_login(kind)
    before = (login.username, login.email)
    member = member_with_login(login)
    client = APIClient()
    client.force_authenticate(coordinator())
    response = client.patch(f"/api/v1/members/{member.pk}/", {"email": "attacker@example.net"}, format="json")
    assert response.status_code == 200, response.content
    login.refresh_from_db()
    assert (login.username, login.email) == before


def test_a_members_login_email_changes_only_after_they_confirm_the_signed_link(client):
    member = MemberFactory(email="ann@example.org")
    login = services.member_login_create(member=reload(member))
    login.set_password(PASSWORD)
    login.save()
    office = Client()
    office.force_login(coordinator())
    office.post(f"/members/{member.pk}/edit/", {
        "first_name": member.first_name, "last_name": member.last_name, "email": "ann.new@example.org",
        "shift_type": "standard",
    })
    login.refresh_from_db()
    assert (login.username, login.email) == ("ann@example.org", "ann@example.org")  # not yet
    to_new = [m for m in mail.outbox if m.to == ["ann.new@example.org"]]
    to_old = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    assert len(to_new) == 1 and len(to_old) == 1
    assert "ann.new@example.org" in to_old[0].body  # the old address is told what changes
    url = path_of(link_in(to_new[0]))

    # Someone else holding the new mailbox cannot confirm: the link needs the member's own login.
    assert Client().get(url)["Location"].startswith("/accounts/login/")
    stranger = Client()
    stranger.force_login(UserFactory(username="stranger"))
    assert stranger.post(url).status_code == 403
    login.refresh_from_db()
    assert login.email == "ann@example.org"

    client.force_login(login)
    assert client.get(url).status_code == 200  # a page with a button: GET changes nothing
    login.refresh_from_db()
    assert login.email == "ann@example.org"
    response = client.post(url)
    assert response.status_code == 302
    login.refresh_from_db()
    assert (login.username, login.email) == ("ann.new@example.org", "ann.new@example.org")
    # The link works once.
    assert client.post(url).status_code == 400


def test_a_tampered_or_expired_link_changes_nothing(client, settings):
    member, login = ann_with_a_login()
    services.member_update(member=reload(member), email="ann.new@example.org", today=TODAY)
    url = confirmation_link("ann.new@example.org")
    client.force_login(login)
    assert client.post(url[:-3] + "xx/").status_code == 400
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is expired
    assert client.post(url).status_code == 400
    login.refresh_from_db()
    assert login.email == "ann@example.org"


def test_a_link_for_an_address_the_office_changed_again_is_stale(client):
    member, login = ann_with_a_login()
    services.member_update(member=reload(member), email="ann.first@example.org", today=TODAY)
    first = confirmation_link("ann.first@example.org")
    services.member_update(member=reload(member), email="ann.second@example.org", today=TODAY)
    client.force_login(login)
    assert client.post(first).status_code == 400
    login.refresh_from_db()
    assert login.email == "ann@example.org"


def test_confirming_refuses_an_address_another_login_took_meanwhile(client):
    member, login = ann_with_a_login()
    services.member_update(member=reload(member), email="ann.new@example.org", today=TODAY)
    url = confirmation_link("ann.new@example.org")
    UserFactory(username="ann.new@example.org")
    client.force_login(login)
    assert client.post(url).status_code == 400
    login.refresh_from_db()
    assert login.username == "ann@example.org"


def test_the_link_is_signed_for_one_login_and_one_change():
    token = services.login_email_token(user_id=7, member_id=3, old="a@example.org", new="b@example.org")
    assert signing.loads(token, salt=services.LOGIN_EMAIL_SALT)["new"] == "b@example.org"
    with pytest.raises(signing.BadSignature):
        signing.loads(token, salt="another purpose")


# --- linking: no path lets a coordinator link a superuser's login ---------------------------------


def test_a_coordinator_cannot_link_a_superusers_login_through_any_path():
    root = privileged_login("superuser")
    member = MemberFactory(email="ann@example.org")
    office_user = coordinator()

    # 1. The admin's change form (coordinators are staff with the members permissions).
    admin = Client()
    admin.force_login(office_user)
    page = admin.get(f"/admin/members/member/{member.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({
        "_save": "Save",
        "associates-TOTAL_FORMS": "0", "associates-INITIAL_FORMS": "0",
        "subscriptions-TOTAL_FORMS": "0", "subscriptions-INITIAL_FORMS": "0",
    })
    control = admin.post(f"/admin/members/member/{member.pk}/change/", {**data, "city": "Lyon"})
    assert control.status_code == 302, "the admin form data is valid without the link"
    response = admin.post(f"/admin/members/member/{member.pk}/change/", {**data, "user": str(root.pk)})
    assert reload(member).user_id is None
    if response.status_code == 200:  # the field is editable: the form refuses the link
        assert "user" in response.context["adminform"].form.errors

    # 2. The office edit form, with a `user` field slipped in.
    admin.post(f"/members/{member.pk}/edit/", {
        "first_name": "Ann", "last_name": "X", "email": "ann@example.org", "shift_type": "standard", "user": root.pk,
    })
    assert reload(member).user_id is None

    # 3. The API (PATCH and create ignore or refuse `user`).
    api = APIClient()
    api.force_authenticate(office_user)
    api.patch(f"/api/v1/members/{member.pk}/", {"user": root.pk}, format="json")
    assert reload(member).user_id is None
    created = api.post("/api/v1/members/", {"first_name": "Bea", "last_name": "B", "email": "root@example.org",
                                            "shift_type": "standard", "user": root.pk}, format="json")
    assert created.status_code == 201
    assert Member.objects.get(pk=created.json()["id"]).user_id is None

    # 4. The invitation: a member whose e-mail is the superuser's gets no login of the superuser's.
    bea = Member.objects.get(pk=created.json()["id"])
    admin.post(f"/members/{bea.pk}/invite/")
    assert reload(bea).user_id != root.pk
    root.refresh_from_db()
    assert root.has_usable_password()

    # 5. The rule itself, wherever a form validates a member.
    member.user = root
    with pytest.raises(Exception) as exc:
        member.full_clean()
    assert "user" in str(exc.value)


def test_the_office_cannot_invite_a_privileged_login_linked_earlier(client):
    login = privileged_login("coordinators")
    login.set_unusable_password()
    login.save()
    member = member_with_login(login)
    client.force_login(coordinator())
    client.post(f"/members/{member.pk}/invite/")
    assert not mail.outbox  # no "choose your password" link for a coordinator's account


def test_linking_a_plain_login_is_still_possible_for_the_model():
    member = MemberFactory(email="ann@example.org")
    member.user = UserFactory(username="ann")
    member.full_clean()  # a cooperator's own login: fine


def test_member_invite_still_works_for_plain_members(client):
    member = MemberFactory(email="ann@example.org")
    client.force_login(coordinator())
    client.post(f"/members/{member.pk}/invite/")
    assert reload(member).user.username == "ann@example.org"
    assert len(mail.outbox) == 1


def test_an_email_case_change_follows_at_once():
    member, login = ann_with_a_login()
    services.member_update(member=reload(member), email="Ann@Example.org", today=TODAY)
    login.refresh_from_db()
    assert login.email == "Ann@Example.org"
    assert not mail.outbox


