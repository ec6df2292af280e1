"""OpenAPI schema extensions and post-processing (drf-spectacular), so that the schema describes
what the API accepts precisely enough for a fuzzer (schemathesis) to send valid data and reach
real objects:

- the token authentication scheme;
- every `{id}`-like path parameter is a positive integer (not "a string of digits");
- every request string without a format, an enum or a pattern refuses control characters (the
  API answers 400 to them: coopmarket.middleware);
- every operation lists the error answers it may give (400, 401, 403, 404, 409, 429) with the
  error object `{"detail", "code"}`;
- OpenAPI links tell a client where the ids an operation needs come from (the member a POST
  /members/ created, the shifts GET /shifts/ lists...).
"""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

# C0 controls other than tab, LF and CR, and DEL (coopmarket.middleware.FORBIDDEN).
NO_CONTROL = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"
MAX_ID = 2_147_483_647


class DecimalFieldSchema(OpenApiSerializerFieldExtension):
    """A decimal as the API reads it: a string of digits within the field's max_digits and
    decimal_places, signed only when the field allows negative values. (drf-spectacular's own
    pattern also matches "", "-" and ".", which the API refuses.)"""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        places = field.decimal_places
        whole = field.max_digits - places if field.max_digits is not None and places is not None else None
        sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
        digits = f"\\d{{1,{whole}}}" if whole else "\\d+"
        fraction = f"(\\.\\d{{1,{places}}})?" if places else ""
        return {"type": "string", "format": "decimal", "pattern": f"^{sign}{digits}{fraction}$".replace("\\\\", "\\")}


class CoopTokenScheme(OpenApiAuthenticationExtension):
    target_class = "coopmarket.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "description": "An error: what is wrong, and a code (CONTRACT.md §5). A 400 on a body gives field errors instead.",
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input (field errors, or a control character in the request).",
    "401": "Not signed in (no or an invalid token).",
    "403": "Signed in without the role this needs.",
    "404": "Unknown id or code.",
    "409": "A coop rule forbids it (`code` says which).",
    "429": "Too many requests (throttled) or too many failed sign-ins (locked out); see Retry-After.",
}

# (source method, source path, status) -> [(target method, target path, parameters, requestBody)]
ME = "$request.path.id"
MEMBER_OPERATIONS = [
    ("get", "/api/v1/members/{id}/"), ("patch", "/api/v1/members/{id}/"), ("get", "/api/v1/members/{id}/history/"),
    ("post", "/api/v1/members/{id}/shares/"), ("post", "/api/v1/members/{id}/shares/checkout/"),
    ("post", "/api/v1/members/{id}/associates/"), ("post", "/api/v1/members/{id}/leave-coop/"),
    ("post", "/api/v1/members/{id}/leaves/"), ("post", "/api/v1/members/{id}/exemptions/"),
    ("post", "/api/v1/members/{id}/extensions/"), ("post", "/api/v1/members/{id}/block/"),
    ("post", "/api/v1/members/{id}/unblock/"), ("post", "/api/v1/members/{id}/reenrol/"),
    ("post", "/api/v1/members/{id}/corrections/"), ("post", "/api/v1/members/{id}/payments/"),
]
SHIFT_OPERATIONS = [
    ("get", "/api/v1/shifts/{id}/"), ("post", "/api/v1/shifts/{id}/registrations/"),
    ("post", "/api/v1/shifts/{id}/attendance/"), ("post", "/api/v1/shifts/{id}/attendance/bulk/"),
    ("post", "/api/v1/shifts/{id}/offer/"), ("delete", "/api/v1/shifts/{id}/offer/"), ("post", "/api/v1/shifts/{id}/take/"),
]


def _member_links(pointer: str) -> list:
    links = [(method, path, {"id": pointer}, None) for method, path in MEMBER_OPERATIONS]
    card = pointer.rsplit("/", 1)[0] + "/card_barcode"
    links += [
        ("get", "/api/v1/checkout/{code}/", {"code": card}, None),
        ("post", "/api/v1/checkout/{code}/override/", {"code": card}, None),
    ]
    return links


LINKS = {
    ("post", "/api/v1/members/", "201"): _member_links("$response.body#/id"),
    ("get", "/api/v1/members/", "200"): _member_links("$response.body#/results/0/id"),
    ("get", "/api/v1/members/me/", "200"): _member_links("$response.body#/id"),
    ("post", "/api/v1/members/{id}/associates/", "201"): [
        ("delete", "/api/v1/members/{id}/associates/{associate_id}/", {"id": ME, "associate_id": "$response.body#/id"}, None),
        ("get", "/api/v1/checkout/{code}/", {"code": "$response.body#/card_barcode"}, None),
    ],
    ("post", "/api/v1/members/{id}/leaves/", "201"): [
        ("patch", "/api/v1/members/{id}/leaves/{leave_id}/", {"id": ME, "leave_id": "$response.body#/id"}, None),
    ],
    ("post", "/api/v1/members/{id}/exemptions/", "201"): [
        ("patch", "/api/v1/members/{id}/exemptions/{exemption_id}/", {"id": ME, "exemption_id": "$response.body#/id"}, None),
    ],
    ("post", "/api/v1/members/{id}/shares/", "201"): [
        ("post", "/api/v1/members/{id}/payments/", {"id": ME}, {"subscription": "$response.body#/id"}),
    ],
    ("get", "/api/v1/share-classes/", "200"): [
        ("get", "/api/v1/share-classes/{id}/", {"id": "$response.body#/0/id"}, None),
    ],
    ("post", "/api/v1/shift-templates/", "201"): [
        ("get", "/api/v1/shift-templates/{id}/", {"id": "$response.body#/id"}, None),
        ("patch", "/api/v1/shift-templates/{id}/", {"id": "$response.body#/id"}, None),
        ("post", "/api/v1/shift-templates/{id}/members/", {"id": "$response.body#/id"}, None),
    ],
    ("get", "/api/v1/shift-templates/", "200"): [
        ("get", "/api/v1/shift-templates/{id}/", {"id": "$response.body#/results/0/id"}, None),
        ("post", "/api/v1/shift-templates/{id}/members/", {"id": "$response.body#/results/0/id"}, None),
    ],
    ("post", "/api/v1/shift-templates/{id}/members/", "201"): [
        ("delete", "/api/v1/shift-templates/{id}/members/{member_id}/", {"id": ME, "member_id": "$response.body#/member"}, None),
    ],
    ("get", "/api/v1/shifts/", "200"): [
        (method, path, {"id": "$response.body#/results/0/id"}, None) for method, path in SHIFT_OPERATIONS
    ],
    ("post", "/api/v1/shifts/{id}/registrations/", "201"): [
        ("delete", "/api/v1/shifts/{id}/registrations/{member_id}/", {"id": ME, "member_id": "$response.body#/member"}, None),
        ("post", "/api/v1/shifts/{id}/offer/", {"id": ME}, {"member": "$response.body#/member"}),
        ("post", "/api/v1/shifts/{id}/attendance/", {"id": ME}, {"member": "$response.body#/member"}),
    ],
    ("post", "/api/v1/shifts/{id}/take/", "201"): [
        ("delete", "/api/v1/shifts/{id}/registrations/{member_id}/", {"id": ME, "member_id": "$response.body#/member"}, None),
    ],
    ("post", "/api/v1/suppliers/", "201"): [
        ("get", "/api/v1/suppliers/{id}/", {"id": "$response.body#/id"}, None),
        ("post", "/api/v1/products/", {}, {"supplier": "$response.body#/id"}),
    ],
    ("get", "/api/v1/suppliers/", "200"): [
        ("get", "/api/v1/suppliers/{id}/", {"id": "$response.body#/results/0/id"}, None),
        ("post", "/api/v1/products/", {}, {"supplier": "$response.body#/results/0/id"}),
    ],
    ("post", "/api/v1/products/", "201"): [
        ("get", "/api/v1/products/{id}/", {"id": "$response.body#/id"}, None),
        ("post", "/api/v1/products/{id}/stock-moves/", {"id": "$response.body#/id"}, None),
    ],
    ("get", "/api/v1/products/", "200"): [
        ("get", "/api/v1/products/{id}/", {"id": "$response.body#/results/0/id"}, None),
        ("post", "/api/v1/products/{id}/stock-moves/", {"id": "$response.body#/results/0/id"}, None),
    ],
}


def _is_plain_string(schema: dict) -> bool:
    return schema.get("type") == "string" and not ({"format", "enum", "pattern", "$ref"} & set(schema))


def _refuse_control_characters(schema: dict) -> None:
    """Recursively add NO_CONTROL to the plain strings of a request schema."""
    if not isinstance(schema, dict):
        return
    if _is_plain_string(schema):
        schema["pattern"] = NO_CONTROL
    for key in ("properties",):
        for child in schema.get(key, {}).values():
            _refuse_control_characters(child)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _refuse_control_characters(schema[key])
    for key in ("allOf", "oneOf", "anyOf"):
        for child in schema.get(key, []):
            _refuse_control_characters(child)


def _operation_ids(paths: dict) -> dict:
    return {(method, path): op["operationId"] for path, ops in paths.items() for method, op in ops.items() if "operationId" in op}


def postprocess(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOKS entry (after the enum hook)."""
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    for name, schema in schemas.items():
        if name.endswith("Request"):
            _refuse_control_characters(schema)
            if schema.get("type") == "object" and "properties" in schema:
                schema["additionalProperties"] = False  # the API reads only the fields it names

    paths = result.get("paths", {})
    ids = _operation_ids(paths)
    for path, operations in paths.items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("pattern") == "^\\d+$":
                    parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
                elif parameter.get("in") in ("query", "path"):
                    _refuse_control_characters(schema)
                    if schema.get("type") == "integer" and parameter.get("name") not in ("page", "page_size"):
                        schema.setdefault("minimum", 1)
                        schema.setdefault("maximum", MAX_ID)
            if path.endswith("/attendance/bulk/") and "requestBody" in operation:
                for content in operation["requestBody"].get("content", {}).values():
                    content["schema"]["minItems"] = 1  # all or nothing, and not nothing
            _error_responses(path, method, operation)
            _links(path, method, operation, ids)
    return result


def _error_responses(path: str, method: str, operation: dict) -> None:
    responses = operation["responses"]
    codes = ["401", "403", "429"]
    if operation.get("parameters") or "requestBody" in operation:
        codes.append("400")
    if "{" in path:
        codes.append("404")
    if method in ("post", "patch", "put", "delete") and path != "/api/v1/auth/token/":
        codes.append("409")
    if operation.get("security") == [] or (operation.get("security") and {} in operation["security"]):
        codes.remove("401")  # open to anyone
        codes.remove("403")
    for code in codes:
        responses.setdefault(code, {
            "description": ERROR_DESCRIPTIONS[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        })


def _links(path: str, method: str, operation: dict, ids: dict) -> None:
    for status, response in operation["responses"].items():
        targets = LINKS.get((method, path, status))
        if not targets:
            continue
        links = response.setdefault("links", {})
        for target_method, target_path, parameters, body in targets:
            operation_id = ids.get((target_method, target_path))
            if operation_id is None:
                continue
            link = {"operationId": operation_id}
            if parameters:
                link["parameters"] = parameters
            if body:
                link["requestBody"] = body
            links[operation_id] = link
