"""The OpenAPI schema is precise enough to fuzz (issue 11): ids are positive integers, strings
refuse control characters, list filters are typed and validated (400, not 500 or a silent empty
list), request bodies name their fields only, decimals look like the numbers the API reads,
errors are described, and links say where the ids come from."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def operation(schema, method, path):
    return schema["paths"][path][method]


def parameter(schema, method, path, name):
    return next(p for p in operation(schema, method, path)["parameters"] if p["name"] == name)


def test_path_ids_are_positive_integers(schema):
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            for p in op.get("parameters", []):
                if p["in"] == "path" and p["name"].endswith("id"):
                    assert p["schema"]["type"] == "integer" and p["schema"]["minimum"] == 1, (method, path, p)


def test_request_strings_refuse_control_characters(schema):
    name = operation(schema, "post", "/api/v1/members/")["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    first_name = schema["components"]["schemas"][name]["properties"]["first_name"]
    assert re.fullmatch(first_name["pattern"], "Anne-Sophie")
    assert not re.fullmatch(first_name["pattern"], "Ann\x00")
    assert schema["components"]["schemas"][name]["additionalProperties"] is False


def test_list_filters_are_typed_and_only_on_lists(schema):
    status = parameter(schema, "get", "/api/v1/members/", "status")["schema"]
    assert "$ref" in status or "enum" in status
    assert not [p for p in operation(schema, "get", "/api/v1/members/{id}/").get("parameters", []) if p["in"] == "query"]
    category = parameter(schema, "get", "/api/v1/products/", "category")["schema"]
    assert category["type"] == "integer" and category["maximum"] == 2_147_483_647
    page_size = parameter(schema, "get", "/api/v1/members/", "page_size")["schema"]
    assert (page_size["minimum"], page_size["maximum"]) == (1, 500)
    assert parameter(schema, "get", "/api/v1/checkout/", "search")["schema"]["minLength"] == 2
    assert parameter(schema, "get", "/api/v1/checkout/{code}/", "code")["schema"]["pattern"] == "^\\d{1,13}$"


def test_decimals_are_numbers_the_api_reads(schema):
    name = operation(schema, "post", "/api/v1/products/{id}/stock-moves/")["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    quantity = schema["components"]["schemas"][name]["properties"]["quantity"]
    assert re.fullmatch(quantity["pattern"], "12.5")
    for wrong in ("", "-", ".", "-1"):
        assert not re.fullmatch(quantity["pattern"], wrong)


def test_errors_and_links_are_described(schema):
    create = operation(schema, "post", "/api/v1/members/")
    assert {"400", "401", "403", "409"} <= set(create["responses"])
    links = create["responses"]["201"]["links"]
    assert links["v1_members_shares_create"]["parameters"] == {"id": "$response.body#/id"}
    assert links["v1_checkout_retrieve"]["parameters"] == {"code": "$response.body#/card_barcode"}
    shares = operation(schema, "post", "/api/v1/members/{id}/shares/")["responses"]["201"]["links"]
    assert shares["v1_members_payments_create"]["requestBody"] == {"subscription": "$response.body#/id"}


def test_the_api_takes_json_only(schema):
    content = operation(schema, "post", "/api/v1/members/")["requestBody"]["content"]
    assert set(content) == {"application/json"}


@pytest.mark.parametrize("query", [
    "/api/v1/members/?status=bogus", "/api/v1/members/?membership=x", "/api/v1/members/?low_income=maybe",
    "/api/v1/products/?category=99999999999999999999", "/api/v1/products/?supplier=-1", "/api/v1/checkout/?search=a",
])
def test_bad_filters_are_a_400(query):
    user = get_user_model().objects.create_user(username="u", password="pass-word-123")
    for name in ("coordinators", "supply"):
        user.groups.add(Group.objects.get(name=name))
    client = APIClient()
    client.force_authenticate(user)
    assert client.get(query).status_code == 400
