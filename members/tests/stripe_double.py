"""A tiny local double of the Stripe API endpoints Coopmarket calls, for tests without network.

`StripeDouble` runs an `http.server` in a thread on 127.0.0.1 (a free port) and answers, with
JSON shaped like Stripe's:

- `POST /v1/checkout/sessions` (form-encoded, nested `a[b][0][c]` keys, as the stripe library sends)
- `GET /v1/checkout/sessions` (`limit`, `starting_after`, `created[gte]`; newest first, paginated)
- `GET /v1/checkout/sessions/{id}`
- `POST /v1/refunds` (honours `Idempotency-Key`; refuses a second refund of one payment intent)

Requests without `Authorization: Bearer <api_key>` get Stripe's 401. Every request is kept in
`requests` for assertions. `pay()` completes a session the way a customer would, and `event()`
builds the webhook event Stripe would send; `sign()` signs a payload with the real scheme.
The `stripe_double` fixture points the settings at a fresh double.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe


def _nested(pairs: list[tuple[str, str]]) -> dict:
    """`line_items[0][price_data][currency]=eur` -> {"line_items": [{"price_data": {"currency": "eur"}}]}."""
    root: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node):
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


class StripeDouble:
    def __init__(self):
        self.api_key = "sk_test_" + "double" + secrets.token_hex(4)
        self.webhook_secret = "whsec_" + secrets.token_hex(16)
        self.sessions: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.refunds_by_key: dict[str, str] = {}
        self.requests: list[dict] = []
        self.fail_next: tuple[int, str] | None = None
        self.page_limit_cap = 100
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> StripeDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                double._handle(self, "GET")

            def do_POST(self):
                double._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- what the tests drive ------------------------------------------------------------------
    def add_session(self, *, amount_total: int, payment_status: str = "paid", created: int | None = None, metadata=None) -> dict:
        """A session made elsewhere (e.g. in the Stripe dashboard), for reconciliation tests."""
        session = self._session({"mode": "payment", "metadata": metadata or {}}, amount_total, created)
        if payment_status == "paid":
            self._complete(session)
        with self._lock:
            self.sessions[session["id"]] = session
        return session

    def pay(self, session_id: str, *, payment_status: str = "paid") -> dict:
        """The customer completes the Checkout page (`unpaid` for a delayed method such as SEPA)."""
        with self._lock:
            session = self.sessions[session_id]
            self._complete(session, payment_status=payment_status)
            return json.loads(json.dumps(session))

    def event(self, type_: str, session: dict, *, event_id: str | None = None, created: int | None = None) -> dict:
        return {
            "id": event_id or _id("evt"),
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": created if created is not None else int(time.time()),
            "data": {"object": session},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }

    def sign(self, payload: str, *, timestamp: int | None = None, secret: str | None = None) -> str:
        return stripe.WebhookSignature.generate_signature_header(payload, secret or self.webhook_secret, timestamp=timestamp)

    # --- the fake API --------------------------------------------------------------------------
    def _session(self, params: dict, amount_total: int, created: int | None) -> dict:
        session_id = _id("cs")
        return {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount_total,
            "amount_total": amount_total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": created if created is not None else int(time.time()),
            "currency": params.get("currency", "eur"),
            "customer": None,
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": int(time.time()) + 86400,
            "livemode": False,
            "locale": None,
            "metadata": params.get("metadata") or {},
            "mode": params.get("mode", "payment"),
            "payment_intent": None,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}#fidkdWxOYHwnPyd1blpxYHZxWjA0",
        }

    def _complete(self, session: dict, *, payment_status: str = "paid") -> None:
        session["status"] = "complete"
        session["payment_status"] = payment_status
        session["payment_intent"] = session["payment_intent"] or _id("pi")
        session["customer_details"] = {"email": session.get("customer_email"), "name": None}

    def _error(self, status: int, message: str, *, type_: str = "invalid_request_error", code: str | None = None):
        return status, {"error": {"type": type_, "message": message, "code": code}}

    def _create_session(self, params: dict):
        for name in ("mode", "line_items", "success_url"):
            if name not in params:
                return self._error(400, f"Missing required param: {name}.", code="parameter_missing")
        currencies = set()
        total = 0
        for item in params["line_items"]:
            price = item.get("price_data") or {}
            currencies.add(price.get("currency"))
            total += int(price["unit_amount"]) * int(item["quantity"])
        if len(currencies) != 1:
            return self._error(400, "All line items must share one currency.")
        session = self._session({**params, "currency": currencies.pop()}, total, None)
        with self._lock:
            self.sessions[session["id"]] = session
        return 200, session

    def _list_sessions(self, query: dict):
        limit = min(int(query.get("limit", 10)), self.page_limit_cap)
        gte = int(query.get("created", {}).get("gte", 0))
        with self._lock:
            rows = sorted(self.sessions.values(), key=lambda s: (s["created"], s["id"]), reverse=True)
        rows = [s for s in rows if s["created"] >= gte]
        after = query.get("starting_after")
        if after:
            ids = [s["id"] for s in rows]
            rows = rows[ids.index(after) + 1:] if after in ids else []
        page = rows[:limit]
        return 200, {"object": "list", "data": page, "has_more": len(rows) > limit, "url": "/v1/checkout/sessions"}

    def _create_refund(self, params: dict, idempotency_key: str | None):
        with self._lock:
            if idempotency_key and idempotency_key in self.refunds_by_key:
                return 200, self.refunds[self.refunds_by_key[idempotency_key]]
            intent = params.get("payment_intent")
            session = next((s for s in self.sessions.values() if intent and s["payment_intent"] == intent), None)
            if session is None:
                return self._error(404, f"No such payment_intent: '{intent}'", code="resource_missing")
            if any(r["payment_intent"] == intent for r in self.refunds.values()):
                return self._error(400, f"Charge for {intent} has already been refunded.", code="charge_already_refunded")
            amount = int(params.get("amount") or session["amount_total"])
            if amount > session["amount_total"]:
                return self._error(400, "Refund amount is greater than the charge.", code="amount_too_large")
            refund = {
                "id": _id("re"),
                "object": "refund",
                "amount": amount,
                "charge": _id("ch"),
                "created": int(time.time()),
                "currency": session["currency"],
                "metadata": params.get("metadata") or {},
                "payment_intent": intent,
                "reason": params.get("reason"),
                "status": "succeeded",
            }
            self.refunds[refund["id"]] = refund
            if idempotency_key:
                self.refunds_by_key[idempotency_key] = refund["id"]
            return 200, refund

    def _route(self, method: str, path: str, params: dict, headers):
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        if method == "GET" and path == "/v1/checkout/sessions":
            return self._list_sessions(params)
        if method == "GET" and path.startswith("/v1/checkout/sessions/"):
            session = self.sessions.get(path.rsplit("/", 1)[1])
            return (200, session) if session else self._error(404, "No such checkout.session", code="resource_missing")
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(params, headers.get("Idempotency-Key"))
        return self._error(404, f"Unrecognized request URL ({method}: {path}).")

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)).decode() if method == "POST" else ""
        params = _nested(parse_qsl(body if method == "POST" else url.query, keep_blank_values=True))
        self.requests.append({"method": method, "path": url.path, "params": params, "headers": dict(handler.headers)})
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            status, payload = self._error(401, "Invalid API Key provided.")
        elif self.fail_next is not None:
            (status, message), self.fail_next = self.fail_next, None
            payload = {"error": {"type": "api_error", "message": message}}
        else:
            status, payload = self._route(method, url.path, params, handler.headers)
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", _id("req"))
        handler.end_headers()
        handler.wfile.write(data)


@pytest.fixture
def stripe_double(settings):
    """A running double, with STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET / STRIPE_API_BASE pointing at it."""
    with StripeDouble() as double:
        settings.STRIPE_SECRET_KEY = double.api_key
        settings.STRIPE_WEBHOOK_SECRET = double.webhook_secret
        settings.STRIPE_API_BASE = double.url
        yield double
