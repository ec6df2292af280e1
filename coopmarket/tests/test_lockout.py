"""Guessing is slow (DOMAIN.md §8): after 5 failed sign-ins for one username from one client
address, or 20 from one address for any usernames, within 15 minutes (coop parameters), further
attempts of that pair (or that address) are refused for 15 minutes whatever the password, on the
login page, the admin login and the token endpoint alike (429; JSON for the API). Locking the pair
means nobody can lock the till's device account from elsewhere. Behind a declared reverse proxy
the client address comes from X-Forwarded-For; otherwise that header is ignored.

These tests go through the real login page, admin login and token endpoint (django-axes needs
the request; other tests use force_login).
"""
import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from members.models import CoopParameters

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
HERE, THERE = "10.0.0.1", "10.0.0.2"


def make_user(username, *groups, staff=False):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, is_staff=staff)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def login_page(username, password, ip=HERE, **extra):
    return Client(REMOTE_ADDR=ip).post("/accounts/login/", {"username": username, "password": password}, **extra)


def admin_login(username, password, ip=HERE):
    return Client(REMOTE_ADDR=ip).post("/admin/login/?next=/admin/", {"username": username, "password": password})


def token(username, password, ip=HERE, **extra):
    return APIClient(REMOTE_ADDR=ip).post("/api/v1/auth/token/", {"username": username, "password": password},
                                          format="json", **extra)


def signed_in(response) -> bool:
    return response.status_code == 302 and "/accounts/login/" not in response["Location"] and "/admin/login/" not in response["Location"]


def test_five_failures_lock_the_username_from_that_address_on_the_login_page():
    make_user("alice")
    for _ in range(4):
        assert login_page("alice", "wrong").status_code == 200  # the form again, with its error
    assert signed_in(login_page("alice", PASSWORD))  # 4 failures: still allowed
    for _ in range(5):
        login_page("alice", "wrong")
    locked = login_page("alice", PASSWORD)
    assert locked.status_code == 429
    assert "too many" in locked.content.decode().lower()
    # The same username from another address, and another username from this one, are not locked.
    assert signed_in(login_page("alice", PASSWORD, ip=THERE))
    make_user("bob")
    assert signed_in(login_page("bob", PASSWORD))


def test_twenty_failures_from_one_address_lock_that_address_for_every_username():
    make_user("carol")
    for number in range(20):
        login_page(f"nobody{number}", "wrong")
    assert login_page("carol", PASSWORD).status_code == 429
    assert signed_in(login_page("carol", PASSWORD, ip=THERE))


def test_the_admin_login_locks_alike():
    make_user("root-ish", staff=True)
    for _ in range(5):
        admin_login("root-ish", "wrong")
    assert admin_login("root-ish", PASSWORD).status_code == 429
    assert signed_in(admin_login("root-ish", PASSWORD, ip=THERE))


def test_failures_count_across_the_login_page_the_admin_and_the_token_endpoint():
    make_user("dave", staff=True)
    login_page("dave", "wrong")
    login_page("dave", "wrong")
    admin_login("dave", "wrong")
    token("dave", "wrong")
    token("dave", "wrong")
    assert login_page("dave", PASSWORD).status_code == 429


def test_the_token_endpoint_answers_429_json_once_locked():
    make_user("erin")
    for _ in range(5):
        token("erin", "wrong")
    response = token("erin", PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out" and "detail" in body
    assert int(response["Retry-After"]) == 15 * 60


def test_nobody_locks_the_till_device_account_from_elsewhere():
    make_user("till", "cashiers")
    for _ in range(30):
        token("till", "wrong", ip="203.0.113.66")  # an attacker elsewhere
    assert token("till", PASSWORD, ip="192.168.1.20").status_code == 200  # the till, in the shop


def test_the_lockout_ends_after_the_parameter_minutes():
    make_user("fay")
    for _ in range(5):
        login_page("fay", "wrong")
    assert login_page("fay", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - datetime.timedelta(minutes=16))
    assert signed_in(login_page("fay", PASSWORD))


def test_limits_and_duration_are_coop_parameters():
    CoopParameters.objects.update_or_create(pk=1, defaults={
        "login_failures_per_user": 3, "login_failures_per_address": 6, "login_lockout_minutes": 60,
    })
    make_user("gus")
    for _ in range(3):
        login_page("gus", "wrong")
    assert login_page("gus", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - datetime.timedelta(minutes=30))
    assert login_page("gus", PASSWORD).status_code == 429  # still within the hour
    for number in range(6):
        login_page(f"x{number}", "wrong", ip=THERE)
    make_user("hal")
    assert login_page("hal", PASSWORD, ip=THERE).status_code == 429


def test_a_forwarded_header_is_ignored_unless_behind_a_proxy():
    make_user("ivy")
    for number in range(5):
        login_page("ivy", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")  # spoofed: one address all along
    assert login_page("ivy", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(settings):
    settings.BEHIND_PROXY = True
    settings.PROXY_COUNT = 1
    make_user("jay")
    proxy = "127.0.0.1"
    for _ in range(5):
        login_page("jay", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert login_page("jay", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    # Another client behind the same proxy is not locked; a client cannot pick its address by
    # prepending to the header: the proxy's own entry (the right-most) is the one read.
    assert signed_in(login_page("jay", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8"))
    assert login_page("jay", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8, 198.51.100.7").status_code == 429


def test_axes_reset_username_unlocks_a_user():
    make_user("kim")
    for _ in range(5):
        login_page("kim", "wrong")
    assert login_page("kim", PASSWORD).status_code == 429
    call_command("axes_reset_username", "kim")
    assert signed_in(login_page("kim", PASSWORD))
