"""API tokens that die (DOMAIN.md §8, CONTRACT.md §5): they expire (30 days; longer for till
device accounts, a parameter), `DELETE /api/v1/auth/token/` revokes the calling token (204), a
password change kills every token of the user, and the database keeps only a hash."""
import datetime
import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from members.models import CoopParameters

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


def make_user(username, *groups):
    user = get_user_model().objects.create_user(username=username, email=f"{username}@example.org", password=PASSWORD)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def token_for(username, password=PASSWORD) -> dict:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def api_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def days_until(expiry: str) -> float:
    return (datetime.datetime.fromisoformat(expiry) - timezone.now()).total_seconds() / 86400


def test_a_token_expires_after_the_parameter_30_days_by_default():
    make_user("coord", "coordinators")
    body = token_for("coord")
    assert 29.9 < days_until(body["expiry"]) <= 30
    CoopParameters.objects.update_or_create(pk=1, defaults={"token_days": 7})
    assert 6.9 < days_until(token_for("coord")["expiry"]) <= 7


def test_a_till_device_account_gets_the_longer_device_expiry():
    make_user("till", "cashiers")
    assert 364.9 < days_until(token_for("till")["expiry"]) <= 365
    CoopParameters.objects.update_or_create(pk=1, defaults={"device_token_days": 90})
    assert 89.9 < days_until(token_for("till")["expiry"]) <= 90


def test_an_expired_token_is_refused():
    make_user("coord", "coordinators")
    token = token_for("coord")["token"]
    client = api_with(token)
    assert client.get("/api/v1/members/").status_code == 200
    later = timezone.now() + datetime.timedelta(days=31)
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.get("/api/v1/members/")
    assert response.status_code == 401
    assert response.json()["code"] in ("authentication_failed", "not_authenticated")


def test_delete_revokes_the_calling_token_only():
    make_user("coord", "coordinators")
    first, second = token_for("coord")["token"], token_for("coord")["token"]
    response = api_with(first).delete("/api/v1/auth/token/")
    assert response.status_code == 204
    assert api_with(first).get("/api/v1/members/").status_code == 401
    assert api_with(second).get("/api/v1/members/").status_code == 200


def test_delete_without_a_token_revokes_nothing():
    user = make_user("coord", "coordinators")
    token = token_for("coord")["token"]
    assert APIClient().delete("/api/v1/auth/token/").status_code == 401
    session = APIClient()
    session.force_login(user)
    assert session.delete("/api/v1/auth/token/").status_code in (400, 401)
    assert api_with(token).get("/api/v1/members/").status_code == 200


def test_a_password_change_kills_every_token_of_the_user():
    user = make_user("coord", "coordinators")
    other = make_user("office2", "coordinators")
    tokens = [token_for("coord")["token"] for _ in range(2)]
    kept = token_for("office2")["token"]
    user.set_password("a-new-pass-word-456")
    user.save()
    for token in tokens:
        assert api_with(token).get("/api/v1/members/").status_code == 401
    assert api_with(kept).get("/api/v1/members/").status_code == 200
    assert other.is_active


def test_the_password_change_page_kills_the_tokens_too():
    user = make_user("coord", "coordinators")
    token = token_for("coord")["token"]
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": "a-new-pass-word-456", "new_password2": "a-new-pass-word-456",
    })
    assert response.status_code == 302
    assert api_with(token).get("/api/v1/members/").status_code == 401


def test_saving_a_user_without_changing_the_password_keeps_the_tokens():
    user = make_user("coord", "coordinators")
    token = token_for("coord")["token"]
    user.first_name = "Kim"
    user.save()
    assert api_with(token).get("/api/v1/members/").status_code == 200


def test_the_database_keeps_only_a_hash_of_the_token():
    make_user("coord", "coordinators")
    token = token_for("coord")["token"]
    digest = hashlib.sha512(token.encode()).hexdigest()
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names() if "token" in t]
        assert tables
        rows = []
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')
            rows += [" ".join(str(value) for value in row) for row in cursor.fetchall()]
    text = "\n".join(rows)
    assert token not in text
    assert digest in text


def test_a_wrong_password_gives_no_token():
    make_user("coord", "coordinators")
    response = APIClient().post("/api/v1/auth/token/", {"username": "coord", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_a_malformed_token_header_is_a_401_not_a_500():
    for header in ("Token", "Token a b", "Token \u00e9\u00e9", "Token " + "z" * 500):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get("/api/v1/members/").status_code == 401, header
