"""Input is checked, never trusted (DOMAIN.md §8): a NUL byte or another control character in any
query parameter, path or body field gets a 400 from one place (coopmarket.middleware), before any
view runs; nothing is written. PostgreSQL refuses NUL in text, so on it these were 500s.

Tabs and line breaks stay allowed (a textarea sends them).
"""
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from checkout.models import TillCheck
from inventory import csvfiles
from inventory.models import SalesImport, StockMove
from members.models import Member

pytestmark = pytest.mark.django_db


def user_in(*groups, username=None):
    user = get_user_model().objects.create_user(username=username or "-".join(groups) or "plain", password="pass-word-123")
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def office():
    client = APIClient()
    client.force_login(user_in("coordinators"))
    return client


@pytest.fixture
def supply():
    client = APIClient()
    client.force_login(user_in("supply"))
    return client


def refused(response):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    return response


@pytest.mark.parametrize("query", [
    "/api/v1/members/?search=a%00b",
    "/api/v1/members/?search=a%07b",
    "/api/v1/members/?sta%00tus=x",
    "/api/v1/checkout/?search=a%00b",
    "/api/v1/shifts/?start=2026-03-02%00",
])
def test_nul_or_control_character_in_a_query_parameter_is_a_json_400(office, query):
    body = refused(office.get(query)).json()
    assert body["code"] == "invalid_characters" and "detail" in body


def test_nul_in_the_product_search_is_a_400(supply):
    refused(supply.get("/api/v1/products/?search=Y%00"))


def test_nul_in_a_till_code_in_the_path_is_a_400_and_logs_nothing(office):
    refused(office.get("/api/v1/checkout/a%00b/"))
    assert not TillCheck.objects.exists()


@pytest.mark.parametrize("value", ["Ann\u0000", "Ann\u001b[31m", "Ann\ud800"])
def test_control_characters_or_lone_surrogates_in_a_json_body_are_refused_and_write_nothing(office, value):
    payload = json.dumps({"first_name": value, "last_name": "X", "email": "ann@example.org", "shift_type": "standard"})
    refused(office.post("/api/v1/members/", payload, content_type="application/json"))
    assert not Member.objects.exists()


def test_nested_json_values_and_keys_are_checked(supply):
    refused(supply.post("/api/v1/suppliers/", {"name": "Farm", "city": "X", "distance_km": 3, "x\u0000": 1}, format="json"))
    refused(supply.post("/api/v1/suppliers/", [{"name": ["a", {"b": "c\u0000"}]}], format="json"))


def test_form_posts_are_checked_on_pages_too():
    client = Client()
    client.force_login(user_in("coordinators"))
    response = refused(client.post("/members/new/", {
        "first_name": "Ann\x00", "last_name": "X", "email": "ann@example.org", "shift_type": "standard",
    }))
    assert "text/html" in response["Content-Type"]
    assert not Member.objects.exists()


def test_multipart_fields_are_checked():
    client = Client()
    client.force_login(user_in("supply"))
    upload = SimpleUploadedFile("ventes.csv", b"date,barcode,quantity,unit_price\n2026-03-15,CAR,1,1\n", "text/csv")
    refused(client.post("/inventory/imports/sales/", {"file": upload, "note\x01": "x"}))
    refused(client.post("/inventory/imports/sales/", {"note": "a\x00b"}))
    assert not SalesImport.objects.exists()


def test_tabs_and_line_breaks_are_allowed():
    client = Client()
    client.force_login(user_in("coordinators"))
    response = client.post("/members/new/", {
        "first_name": "Ann", "last_name": "X", "email": "ann@example.org", "shift_type": "standard",
        "notes": "line one\r\nline two\tindented",
    })
    assert response.status_code == 302
    assert Member.objects.get().notes == "line one\r\nline two\tindented"


def test_a_nul_in_the_login_form_is_a_400_not_a_500():
    assert Client().post("/accounts/login/", {"username": "a\x00", "password": "x"}).status_code == 400


# --- CSV files ---------------------------------------------------------------------------------


def test_a_csv_field_longer_than_the_csv_modules_limit_is_a_line_numbered_error():
    content = ("date,barcode,quantity,unit_price\n2026-03-15,CAR,1,1\n2026-03-15,CAR,1," + "9" * 200_000 + "\n").encode()
    with pytest.raises(csvfiles.CSVFileError, match="line 3"):
        csvfiles.read_rows(content, {"date": (), "barcode": (), "quantity": (), "unit_price": ()}, ("date",))


def test_a_csv_control_character_is_a_line_numbered_error():
    content = b"date,barcode,quantity,unit_price\n2026-03-15,CAR,1,1\n2026-03-15,C\x00AR,1,1\n"
    with pytest.raises(csvfiles.CSVFileError, match="line 3"):
        csvfiles.read_rows(content, {"date": (), "barcode": (), "quantity": (), "unit_price": ()}, ("date",))


@pytest.mark.parametrize("row", ["2026-03-15,CAR,1," + "9" * 200_000, "2026-03-15,C\x00AR,1,1"], ids=["long", "nul"])
def test_the_import_page_answers_a_line_numbered_400_for_such_a_file(row):
    client = Client()
    client.force_login(user_in("supply"))
    content = f"date,barcode,quantity,unit_price\n2026-03-15,CAR,1,1\n{row}\n".encode()
    response = client.post("/inventory/imports/sales/", {"file": SimpleUploadedFile("s.csv", io.BytesIO(content).read(), "text/csv")})
    assert response.status_code == 400
    assert "line 3" in response.content.decode()
    assert not SalesImport.objects.exists() and not StockMove.objects.exists()
