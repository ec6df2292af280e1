"""Online share payments with Stripe Checkout (issue 7).

Services (keyword-only, one transaction each) and a pure reconciliation core:

- `checkout_start`: validates the subscription the member wants (the first-subscription minimum
  applies before Stripe is called), creates a Checkout Session server-side and records it as a
  `StripeCheckout` row (status `open`).
- `event_process`: acts on a verified webhook event. A paid session becomes, in one transaction,
  a share subscription and exactly one ledger payment (method `stripe`, `stripe_reference` = the
  payment intent); the event id is stored, so a repeated delivery changes nothing.
- `refund_create`: refunds an online payment through Stripe and writes the refund row.
- `reconcile` (pure) and `reconciliation_fetch`: what Stripe reports paid that the ledger lacks,
  and the reverse.

Amounts sent to and read from Stripe are integer cents; the ledger keeps `Decimal` euros.
Without `STRIPE_SECRET_KEY` and `STRIPE_WEBHOOK_SECRET` online payment is off (`online_payment_enabled`).
"""
from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coopmarket.errors import RuleViolation

from . import services
from .models import Member, MemberEvent, Payment, ShareClass, ShareSubscription, StripeCheckout, StripeEvent

logger = logging.getLogger("members.stripe")

CURRENCY = "eur"
CENTS = Decimal(100)
WEBHOOK_TOLERANCE_SECONDS = 300

PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
FAILED_EVENTS = frozenset({"checkout.session.async_payment_failed"})
EXPIRED_EVENTS = frozenset({"checkout.session.expired"})
SESSION_EVENTS = PAID_EVENTS | FAILED_EVENTS | EXPIRED_EVENTS


class StripeFailure(Exception):
    """Stripe could not be reached, or refused the request. Nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- configuration and money --------------------------------------------------------------------

def online_payment_enabled() -> bool:
    """Online payment needs both the API key and the webhook secret (the embedded default has neither)."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


def _require_enabled() -> None:
    if not online_payment_enabled():
        raise RuleViolation("not_allowed", _("Online payment is not set up for this coop (no Stripe keys)."))


def stripe_client() -> stripe.StripeClient:
    """A Stripe client with the coop's key; `STRIPE_API_BASE` points it at a local double."""
    kwargs = {}
    if settings.STRIPE_API_BASE:
        kwargs["base_addresses"] = {"api": settings.STRIPE_API_BASE.rstrip("/")}
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, **kwargs)


def to_cents(amount: Decimal) -> int:
    """10.00 -> 1000. Refuses fractions of a cent rather than rounding money."""
    cents = Decimal(amount) * CENTS
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    """17000 -> Decimal('170.00')."""
    return (Decimal(int(cents)) / CENTS).quantize(Decimal("0.01"))


# --- starting a checkout ----------------------------------------------------------------------

def _first_in_class(member: Member, share_class: ShareClass) -> bool:
    return not member.subscriptions.filter(share_class=share_class, redemption_requested_on__isnull=True).exists()


def checkout_quantity_minimum(*, member: Member, share_class: ShareClass) -> int:
    """The fewest shares the member may buy online in this class (DOMAIN.md §1 first-subscription rule)."""
    if share_class.grants_shopping and _first_in_class(member, share_class):
        return share_class.minimum_for(member.low_income)
    return 1


def _checkout_check(*, member: Member, share_class: ShareClass | None, quantity) -> None:
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    errors: dict[str, list[str]] = {}
    if share_class is None:
        errors["share_class"] = [_("Choose a share class.")]
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        errors["quantity"] = [_("The quantity must be at least 1.")]
    if not errors:
        minimum = checkout_quantity_minimum(member=member, share_class=share_class)
        if quantity < minimum:
            errors["quantity"] = [
                _("A first subscription to class %(code)s needs at least %(min)d shares.")
                % {"code": share_class.code, "min": minimum}
            ]
    if errors:
        raise ValidationError(errors)


def checkout_start(
    *,
    member: Member,
    share_class: ShareClass | None,
    quantity: int,
    success_url: str,
    cancel_url: str,
    by=None,
    client: stripe.StripeClient | None = None,
) -> StripeCheckout:
    """Create a Stripe Checkout Session for `quantity` shares of `share_class` and record it.

    Raises RuleViolation (online payment off, member left), ValidationError (quantity below the
    first-subscription minimum...) before Stripe is called, StripeFailure when Stripe fails.
    """
    _require_enabled()
    _checkout_check(member=member, share_class=share_class, quantity=quantity)
    unit_cents = to_cents(share_class.unit_price)
    amount_cents = unit_cents * quantity
    metadata = {
        "member_id": str(member.pk),
        "member_number": member.display_number,
        "share_class": share_class.code,
        "quantity": str(quantity),
        "unit_price_cents": str(unit_cents),
    }
    params = {
        "mode": "payment",
        "line_items": [{
            "quantity": quantity,
            "price_data": {
                "currency": CURRENCY,
                "unit_amount": unit_cents,
                "product_data": {
                    "name": _("%(coop)s shares, class %(code)s") % {"coop": settings.COOP_NAME, "code": share_class.code},
                },
            },
        }],
        "client_reference_id": f"member-{member.pk}-{share_class.code}-{quantity}",
        "metadata": metadata,
        "payment_intent_data": {
            "metadata": metadata,
            "description": _("Shares %(code)s x %(quantity)d, member %(number)s")
            % {"code": share_class.code, "quantity": quantity, "number": member.display_number},
        },
        "customer_email": member.email,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    try:
        session = (client or stripe_client()).v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        logger.error("Stripe refused a checkout session for member %s: %s", member.pk, exc)
        raise StripeFailure(_("Stripe could not start the payment; try again later.")) from exc
    if session.amount_total is not None and session.amount_total != amount_cents:
        logger.error("Stripe session %s total %s, expected %s", session.id, session.amount_total, amount_cents)
        raise StripeFailure(_("Stripe computed another amount; the payment was not started."))
    return StripeCheckout.objects.create(
        session_id=session.id,
        member=member,
        share_class=share_class,
        quantity=quantity,
        unit_price=share_class.unit_price,
        amount_cents=amount_cents,
        currency=CURRENCY,
        checkout_url=session.url or "",
        created_by=by if by is not None and by.pk else None,
    )


# --- webhook events ---------------------------------------------------------------------------

def _event_created(event: dict) -> datetime.datetime | None:
    created = event.get("created")
    if isinstance(created, int) and not isinstance(created, bool):
        return datetime.datetime.fromtimestamp(created, tz=datetime.UTC)
    return None


def _store_event(event: dict, *, outcome: str, session_id: str = "") -> None:
    StripeEvent.objects.create(
        event_id=event["id"],
        type=event["type"],
        session_id=session_id,
        outcome=outcome,
        payload=event,
        stripe_created=_event_created(event),
    )


def _receipt_on_commit(payment: Payment) -> None:
    from .tasks import payment_receipt_send

    transaction.on_commit(partial(payment_receipt_send.delay, payment.pk), robust=True)


def _log(member: Member, kind: str, detail: str, by=None) -> None:
    MemberEvent.objects.create(member=member, kind=kind, detail=detail, author=by if by is not None and by.pk else None)


def _mismatch(checkout: StripeCheckout, session: dict) -> str:
    """Why a paid session cannot be what the coop asked for ('' when it is)."""
    if session.get("amount_total") != checkout.amount_cents:
        return f"amount_total {session.get('amount_total')!r} != {checkout.amount_cents}"
    if str(session.get("currency", "")).lower() != checkout.currency:
        return f"currency {session.get('currency')!r} != {checkout.currency!r}"
    metadata = session.get("metadata") or {}
    if str(metadata.get("member_id", checkout.member_id)) != str(checkout.member_id):
        return f"metadata member_id {metadata.get('member_id')!r} != {checkout.member_id}"
    return ""


def _fulfil(checkout: StripeCheckout, session: dict, *, paid_on: datetime.date, today: datetime.date) -> str:
    """The paid session becomes a subscription and one ledger payment (caller holds the locks)."""
    if checkout.status in (StripeCheckout.Status.PAID, StripeCheckout.Status.REFUNDED):
        return "already_paid"
    if checkout.status == StripeCheckout.Status.REJECTED:
        return "already_rejected"
    problem = _mismatch(checkout, session)
    member = Member.objects.select_for_update().get(pk=checkout.member_id)
    if not problem and member.membership == Member.Membership.LEFT:
        problem = "member left the coop"
    intent = session.get("payment_intent")
    intent = intent.get("id") if isinstance(intent, dict) else intent
    checkout.payment_intent = intent or ""
    checkout.completed_at = timezone.now()
    if problem:
        logger.error("Stripe session %s paid but not recorded: %s", checkout.session_id, problem)
        checkout.status = StripeCheckout.Status.REJECTED
        checkout.note = problem
        checkout.save(update_fields=["status", "note", "payment_intent", "completed_at"])
        return "rejected"
    subscription = ShareSubscription.objects.create(
        member=member,
        share_class=checkout.share_class,
        quantity=checkout.quantity,
        unit_price=checkout.unit_price,
        amount=checkout.unit_price * checkout.quantity,
        instalments=1,
        subscribed_on=paid_on,
        created_by=checkout.created_by,
    )
    _log(member, "subscribed", f"{checkout.quantity} x {checkout.share_class.code}, 1 instalment(s)", checkout.created_by)
    payment = services.payment_record(
        subscription=subscription,
        amount=from_cents(checkout.amount_cents),
        method=Payment.Method.STRIPE,
        today=today,
        paid_on=paid_on,
        reference=checkout.session_id,
        stripe_reference=checkout.payment_intent or checkout.session_id,
    )
    checkout.status = StripeCheckout.Status.PAID
    checkout.subscription = subscription
    checkout.payment = payment
    checkout.save(update_fields=["status", "subscription", "payment", "payment_intent", "completed_at"])
    _receipt_on_commit(payment)
    return "paid"


def _apply(event: dict, checkout: StripeCheckout, *, now: datetime.datetime) -> str:
    kind = event["type"]
    session = event["data"]["object"]
    Status = StripeCheckout.Status
    if kind in PAID_EVENTS:
        if session.get("payment_status") == "paid":
            today = timezone.localdate(now)
            created = _event_created(event)
            paid_on = min(timezone.localdate(created), today) if created else today
            return _fulfil(checkout, session, paid_on=paid_on, today=today)
        if checkout.status == Status.OPEN:  # a delayed method (SEPA debit...): wait for async_payment_*
            checkout.status = Status.PROCESSING
            checkout.save(update_fields=["status"])
            return "processing"
        return "unchanged"
    if kind in FAILED_EVENTS:
        if checkout.status in (Status.OPEN, Status.PROCESSING):
            checkout.status = Status.FAILED
            checkout.save(update_fields=["status"])
            return "failed"
        return "unchanged"
    if kind in EXPIRED_EVENTS:
        if checkout.status == Status.OPEN:
            checkout.status = Status.EXPIRED
            checkout.save(update_fields=["status"])
            return "expired"
        return "unchanged"
    return "ignored"


def event_process(*, event: dict, now: datetime.datetime) -> str:
    """Act once on a verified Stripe event (a dict with id, type, data.object); returns the outcome.

    Checkout session events are handled with the session row locked, so concurrent deliveries of
    one event are serialised, and the event row is written in the same transaction as the payment.
    An event whose session the coop never created is logged and nothing is written.
    """
    kind = event["type"]
    if kind not in SESSION_EVENTS:
        try:
            with transaction.atomic():
                _store_event(event, outcome="ignored")
        except IntegrityError:
            return "duplicate"
        return "ignored"
    session_id = event["data"]["object"].get("id")
    with transaction.atomic():
        checkout = (
            StripeCheckout.objects.select_for_update().select_related("share_class").filter(session_id=session_id).first()
            if isinstance(session_id, str) else None
        )
        if checkout is None:
            logger.warning("Stripe event %s (%s) for an unknown session %r: ignored", event["id"], kind, session_id)
            return "unknown_session"
        if StripeEvent.objects.filter(event_id=event["id"]).exists():
            return "duplicate"
        outcome = _apply(event, checkout, now=now)
        _store_event(event, outcome=outcome, session_id=session_id)
    logger.info("Stripe event %s (%s) on %s: %s", event["id"], kind, session_id, outcome)
    return outcome


# --- refunds ----------------------------------------------------------------------------------

def refund_create(*, payment: Payment, today: datetime.date, by=None, client: stripe.StripeClient | None = None) -> Payment:
    """Refund an online share payment in full through Stripe, then write the refund row.

    The shares bought are given back (the subscription is closed as redeemed today) and the
    membership refreshed. Idempotent: a second call returns the refund already recorded, and Stripe
    gets an idempotency key, so a retry after a failure never refunds twice.
    """
    _require_enabled()
    with transaction.atomic():
        checkout = StripeCheckout.objects.select_for_update().filter(payment_id=payment.pk).first()
        if checkout is None:
            raise RuleViolation("not_allowed", _("Only an online (Stripe) payment can be refunded here."))
        if checkout.refund_id is not None:
            return checkout.refund
        member = Member.objects.select_for_update().get(pk=checkout.member_id)
        subscription = ShareSubscription.objects.select_for_update().get(pk=checkout.subscription_id)
        if subscription.redemption_requested_on is not None:
            raise RuleViolation("not_allowed", _("These shares are marked for redemption: refund them from the redemption list."))
        if not checkout.payment_intent:
            raise RuleViolation("not_allowed", _("Stripe gave no payment reference for this payment; refund it from the Stripe dashboard."))
        try:
            refund = (client or stripe_client()).v1.refunds.create(
                params={
                    "payment_intent": checkout.payment_intent,
                    "amount": checkout.amount_cents,
                    "reason": "requested_by_customer",
                    "metadata": {"member_id": str(member.pk), "session_id": checkout.session_id},
                },
                options={"idempotency_key": f"coopmarket-refund-{checkout.session_id}"},
            )
        except stripe.StripeError as exc:
            logger.error("Stripe refused the refund of %s: %s", checkout.session_id, exc)
            raise StripeFailure(_("Stripe refused the refund: %(error)s") % {"error": exc.user_message or str(exc)}) from exc
        if refund.status in ("failed", "canceled"):
            raise StripeFailure(_("Stripe could not refund this payment (status %(status)s).") % {"status": refund.status})
        row = Payment.objects.create(
            subscription=subscription,
            kind=Payment.Kind.REFUND,
            amount=from_cents(refund.amount or checkout.amount_cents),
            method=Payment.Method.STRIPE,
            paid_on=today,
            reference=refund.id,
            stripe_reference=refund.id,
            recorded_by=by if by is not None and by.pk else None,
        )
        subscription.redemption_requested_on = subscription.redemption_due_on = subscription.redeemed_on = today
        subscription.save(update_fields=["redemption_requested_on", "redemption_due_on", "redeemed_on"])
        checkout.refund = row
        checkout.status = StripeCheckout.Status.REFUNDED
        checkout.save(update_fields=["refund", "status"])
        _log(member, "refunded", f"{row.amount} EUR (stripe)", by)
        services.membership_refresh(member=member, today=today)
        _receipt_on_commit(row)
    return row


# --- pages ------------------------------------------------------------------------------------

def online_context(member: Member) -> dict:
    """What `_pay_online.html` shows: the classes to buy online and this member's online payments."""
    if not online_payment_enabled():
        return {"enabled": False}
    classes = [
        {"share_class": sc, "minimum": checkout_quantity_minimum(member=member, share_class=sc)}
        for sc in ShareClass.objects.all()
    ]
    checkouts = list(member.stripe_checkouts.select_related("share_class", "payment", "refund")[:20])
    return {"enabled": member.membership != Member.Membership.LEFT, "classes": classes, "checkouts": checkouts}


# --- reconciliation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StripeSessionFacts:
    """A Checkout Session as Stripe reports it."""

    session_id: str
    payment_status: str
    amount_total: int | None
    payment_intent: str | None
    created: datetime.datetime
    member_id: str = ""


@dataclass(frozen=True)
class LedgerFacts:
    """A Stripe payment row of the ledger."""

    payment_id: int
    member_number: str
    amount_cents: int
    paid_on: datetime.date
    stripe_reference: str
    session_id: str = ""


@dataclass
class Reconciliation:
    matched: int = 0
    missing_in_ledger: list[StripeSessionFacts] = field(default_factory=list)
    unknown_to_stripe: list[LedgerFacts] = field(default_factory=list)
    amount_differences: list[tuple[StripeSessionFacts, LedgerFacts]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing_in_ledger or self.unknown_to_stripe or self.amount_differences)


def reconcile(sessions: list[StripeSessionFacts], ledger: list[LedgerFacts]) -> Reconciliation:
    """Compare Stripe's paid sessions with the ledger's Stripe payments (a pure function).

    A ledger row matches a session by the session id it was recorded from, or by its Stripe
    reference (the payment intent, or the session id when Stripe gave no intent).
    """
    report = Reconciliation()
    by_key: dict[str, LedgerFacts] = {}
    for row in ledger:
        for key in (row.session_id, row.stripe_reference):
            if key:
                by_key.setdefault(key, row)
    seen: set[int] = set()
    for session in sessions:
        if session.payment_status != "paid":
            continue
        row = by_key.get(session.session_id) or (by_key.get(session.payment_intent) if session.payment_intent else None)
        if row is None:
            report.missing_in_ledger.append(session)
            continue
        seen.add(row.payment_id)
        if row.amount_cents != session.amount_total:
            report.amount_differences.append((session, row))
        else:
            report.matched += 1
    report.unknown_to_stripe = [row for row in ledger if row.payment_id not in seen]
    return report


def _session_facts(session) -> StripeSessionFacts:
    data = session.to_dict() if hasattr(session, "to_dict") else dict(session)
    intent = data.get("payment_intent")
    intent = intent.get("id") if isinstance(intent, dict) else intent
    return StripeSessionFacts(
        session_id=data["id"],
        payment_status=data.get("payment_status") or "",
        amount_total=data.get("amount_total"),
        payment_intent=intent,
        created=datetime.datetime.fromtimestamp(data.get("created") or 0, tz=datetime.UTC),
        member_id=str((data.get("metadata") or {}).get("member_id", "")),
    )


def ledger_facts(*, since: datetime.datetime | None) -> list[LedgerFacts]:
    """The ledger's Stripe payments (not refunds) whose session was created since `since`."""
    rows = Payment.objects.filter(method=Payment.Method.STRIPE, kind=Payment.Kind.PAYMENT).select_related(
        "subscription__member", "stripe_checkout"
    )
    facts = []
    for row in rows.order_by("paid_on", "id"):
        checkout = getattr(row, "stripe_checkout", None)
        if since is not None:
            started = checkout.created_at if checkout else timezone.make_aware(datetime.datetime.combine(row.paid_on, datetime.time.min))
            if started < since:
                continue
        facts.append(LedgerFacts(
            payment_id=row.pk,
            member_number=row.subscription.member.display_number,
            amount_cents=to_cents(row.amount),
            paid_on=row.paid_on,
            stripe_reference=row.stripe_reference or "",
            session_id=checkout.session_id if checkout else "",
        ))
    return facts


def reconciliation_fetch(*, since: datetime.datetime | None, client: stripe.StripeClient | None = None) -> Reconciliation:
    """Read every Checkout Session created since `since` from Stripe (all pages) and reconcile."""
    _require_enabled()
    params: dict = {"limit": 100}
    if since is not None:
        params["created"] = {"gte": int(since.timestamp())}
    try:
        page = (client or stripe_client()).v1.checkout.sessions.list(params=params)
        sessions = [_session_facts(session) for session in page.auto_paging_iter()]
    except stripe.StripeError as exc:
        raise StripeFailure(_("Stripe could not list the checkout sessions: %(error)s") % {"error": exc}) from exc
    return reconcile(sessions, ledger_facts(since=since))
