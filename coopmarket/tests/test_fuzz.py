"""Fuzzing the whole API from its own OpenAPI schema (schemathesis, pinned in requirements-dev.txt):
no request, valid or not, may answer 5xx (DOMAIN.md §8). The check is schemathesis's
`not_a_server_error`.

Every operation of /api/schema/ is called in-process (WSGI) with data generated from the schema,
positive (what the schema allows) and negative (what it forbids), with a fixed seed
(`derandomize`): a run is reproducible, and a 5xx found once is found again. About half the
cases are pointed at real objects of a small coop built below (the ids, card barcodes and codes
of members, shifts, templates, products...), so that the generated data reaches the rules rather
than stopping at 404, and a quarter get a control character (a NUL byte...) in one of their
strings, the input that broke PostgreSQL before. Each case runs in a savepoint of the test's transaction, on the test
database: on PostgreSQL too, where NUL bytes and out-of-range numbers used to answer 500.

FUZZ_EXAMPLES (default 12) sets the cases per operation and mode; a longer local run:
`FUZZ_EXAMPLES=100 .venv/bin/python -m pytest coopmarket/tests/test_fuzz.py`.
"""
import collections
import datetime
import os

import hypothesis
import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from coopmarket.tokens import token_issue
from inventory import services as inventory_services
from members import services as member_services
from members.models import Member, ShareClass
from members.tests.factories import MemberFactory, active_member, subscribe
from shifts import services as shift_services
from shifts.models import Registration, Shift
from shifts.tests.conftest import make_template

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SKIPPED = {("DELETE", "/api/v1/auth/token/")}  # would revoke the fuzzer's own token


class ServerError(AssertionError):
    pass


@pytest.fixture
def wsgi_app(settings):
    """Django's WSGI application, sharing the test's connection and transaction: the request
    signals must not close the connection (django.test.Client does the same)."""
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def coop():
    """A small coop: members in several states (with shares, associates, a slot, a leave...),
    generated shifts with registrations and an offer, a supplier with products."""
    today = datetime.date.today()
    now = datetime.datetime.now(datetime.UTC)
    root = get_user_model().objects.create_superuser(username="fuzz-root", password="pass-word-123")
    members = [active_member(today=today, first_name=f"Ann{i}", last_name="Fuzz", email=f"ann{i}@example.org") for i in range(4)]
    Member.objects.filter(pk=members[0].pk).update(user=root)  # so that /members/me/ answers
    ftop = active_member(today=today, first_name="Flo", last_name="Fuzz", email="flo@example.org", shift_type="ftop")
    fresh = MemberFactory(first_name="Fred", last_name="Fuzz", email="fred@example.org", joined_on=today)
    instalments = MemberFactory(first_name="Ivy", last_name="Fuzz", email="ivy@example.org", joined_on=today)
    subscription = subscribe(instalments, 10, today=today, instalments=5)
    associate = member_services.associate_add(member=members[1], first_name="Asa", last_name="Fuzz")
    template = make_template(capacity=4)
    shift_services.shifts_generate(start=today, end=today + datetime.timedelta(days=35))
    shift_services.slot_assign(template=template, member=members[2], start_date=today, today=today)
    shifts = list(Shift.objects.order_by("start")[:6])
    for shift in shifts[:3]:
        shift_services.shift_book(shift=shift, member=ftop, now=now, as_coordinator=True)
    later = Shift.objects.filter(start__gt=now + datetime.timedelta(days=3)).order_by("start").first()
    if later is not None:
        registration = shift_services.shift_book(shift=later, member=members[3], now=now, as_coordinator=True)
        shift_services.shift_offer(shift=later, member=members[3], now=now)
        shifts.append(later)
    shift_services.leave_create(member=members[3], start=today + datetime.timedelta(days=60),
                                end=today + datetime.timedelta(days=90), reason="travel", today=today, now=now)
    shift_services.exemption_create(member=members[1], start=today + datetime.timedelta(days=10), end=None,
                                    reason="health", today=today, now=now)
    farm = inventory_services.supplier_create(name="Ferme", city="Senlis", distance_km=30)
    category = inventory_services.category_create(name="Légumes")
    products = [
        inventory_services.product_create(name=f"Produit {i}", supplier=farm, category=category, cost_price="1.20",
                                          vat_rate="5.5", internal_code=f"P{i}")
        for i in range(3)
    ]
    everyone = [*members, ftop, fresh, instalments]
    _row, token = token_issue(user=root, lifetime=datetime.timedelta(days=1))
    return {
        "token": token,
        "member": [m.pk for m in everyone],
        "code": [m.card_barcode for m in everyone] + [associate.card_barcode] + [str(m.member_number) for m in everyone],
        "associate": [associate.pk],
        "leave": list(members[3].leaves.values_list("pk", flat=True)),
        "exemption": list(members[1].exemptions.values_list("pk", flat=True)),
        "shift": [s.pk for s in shifts],
        "template": [template.pk],
        "subscription": [subscription.pk],
        "product": [p.pk for p in products],
        "supplier": [farm.pk],
        "category": [category.pk],
        "share_class": list(ShareClass.objects.values_list("code", flat=True)),
        "share_class_id": list(ShareClass.objects.values_list("pk", flat=True)),
        "registration": [registration.pk] if later is not None else list(Registration.objects.values_list("pk", flat=True)[:1]),
    }


def path_ids(path: str, name: str) -> str | None:
    """Which kind of object a path parameter names."""
    if name == "id":
        for prefix, kind in (("/api/v1/members/", "member"), ("/api/v1/shifts/", "shift"),
                             ("/api/v1/shift-templates/", "template"), ("/api/v1/products/", "product"),
                             ("/api/v1/suppliers/", "supplier"), ("/api/v1/share-classes/", "share_class_id")):
            if path.startswith(prefix):
                return kind
        return None
    return {"associate_id": "associate", "leave_id": "leave", "exemption_id": "exemption", "member_id": "member",
            "code": "code"}.get(name)


BODY_IDS = {"member": "member", "subscription": "subscription", "supplier": "supplier", "category": "category",
            "template": "template", "share_class": "share_class"}


def make_realistic(case, data, coop) -> None:
    """Point about half of the ids a case carries at real objects."""
    path = case.operation.path
    for name in list(case.path_parameters or {}):
        kind = path_ids(path, name)
        if kind and coop[kind] and data.draw(st.booleans(), label=f"real {name}"):
            case.path_parameters[name] = data.draw(st.sampled_from(coop[kind]), label=name)
    body = case.body
    items = body if isinstance(body, list) else [body]
    for item in items:
        if not isinstance(item, dict):
            continue
        for name, kind in BODY_IDS.items():
            if name in item and coop[kind] and data.draw(st.booleans(), label=f"real body {name}"):
                item[name] = data.draw(st.sampled_from(coop[kind]), label=f"body {name}")


CONTROL = st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "a\x00b"])


def inject_control_characters(case, data) -> None:
    """Now and then, a control character in a string the schema says must not hold one: the
    fuzzer's own data respects the schema, and NUL bytes are what broke PostgreSQL (issue 11)."""
    if not data.draw(st.integers(0, 3), label="inject") == 0:
        return
    targets = [(case.query, name) for name, value in (case.query or {}).items() if isinstance(value, str)]
    if isinstance(case.body, dict):
        targets += [(case.body, name) for name, value in case.body.items() if isinstance(value, str)]
    if case.path_parameters and "code" in case.path_parameters:
        targets.append((case.path_parameters, "code"))
    if targets:
        container, name = data.draw(st.sampled_from(targets), label="target")
        container[name] = f"{container[name]}{data.draw(CONTROL, label='control')}"


def test_no_api_operation_answers_a_server_error(wsgi_app, coop):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    headers = {"Authorization": f"Token {coop['token']}"}
    failures, tested = [], 0
    statuses = collections.Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        tested += 1
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @hypothesis.settings(
            max_examples=2 * EXAMPLES, derandomize=True, database=None, deadline=None,
            suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
        )
        @given(case=strategy, data=st.data())
        def fuzz(case, data):
            make_realistic(case, data, coop)
            inject_control_characters(case, data)
            try:
                with transaction.atomic():  # one savepoint per case
                    response = case.call(headers=headers)
                    statuses[(case.operation.label, response.status_code)] += 1
                    if response.status_code >= 500:
                        raise ServerError(f"{case.operation.label}: {response.status_code} for {case.as_curl_command()}")
            except ServerError:
                raise
            case.validate_response(response, checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}"[:2000])
    if os.environ.get("FUZZ_STATS"):
        for (label, code), count in sorted(statuses.items()):
            print(f"{count:4d} {code} {label}")
    assert tested >= 50, f"only {tested} operations in the schema"
    assert not failures, "\n\n".join(failures)
