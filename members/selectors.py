"""Reads shared by pages, the API and exports. Every list is annotated in one query."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from coopmarket.roles import is_privileged_login

from .barcodes import card_code
from .models import Associate, Member, Payment, ShareClass, ShareSubscription
from .privacy import iso
from .text import search_key

MONEY = DecimalField(max_digits=12, decimal_places=2)
_held = Q(redemption_requested_on__isnull=True)


def _sum_subquery(queryset, group_by: str, expression, output_field):
    """Coalesce(SUM(expression) over `queryset` grouped by `group_by`, 0) as a correlated subquery."""
    total = queryset.order_by().values(group_by).annotate(total=Sum(expression)).values("total")[:1]
    return Coalesce(Subquery(total, output_field=output_field), Value(0, output_field=output_field))


def members_with_shares():
    """Members annotated with their shopping shares: quantity, amount subscribed, amount paid."""
    shopping_subs = ShareSubscription.objects.filter(_held, member=OuterRef("pk"), share_class__grants_shopping=True)
    shopping_payments = Payment.objects.filter(
        subscription__member=OuterRef("pk"),
        subscription__share_class__grants_shopping=True,
        subscription__redemption_requested_on__isnull=True,
    )
    signed = Case(When(kind=Payment.Kind.PAYMENT, then=F("amount")), default=-F("amount"), output_field=MONEY)
    return Member.objects.annotate(
        shares_quantity=_sum_subquery(shopping_subs, "member_id", "quantity", IntegerField()),
        shares_amount=_sum_subquery(shopping_subs, "member_id", "amount", MONEY),
        shares_paid=_sum_subquery(shopping_payments, "subscription__member_id", signed, MONEY),
    )


def members_for_api():
    """Members with everything the API's member object needs, at a constant number of queries."""
    return Member.objects.prefetch_related(
        Prefetch("associates", queryset=Associate.objects.filter(removed_on__isnull=True)),
        Prefetch("subscriptions", queryset=subscriptions_with_paid()),
    )


def _signed_payments():
    return Case(When(kind=Payment.Kind.PAYMENT, then=F("amount")), default=-F("amount"), output_field=MONEY)


def subscriptions_with_paid():
    """Subscriptions with their class and `paid_total` (the ledger's signed sum) in one query."""
    paid = _sum_subquery(Payment.objects.filter(subscription=OuterRef("pk")), "subscription_id", _signed_payments(), MONEY)
    return ShareSubscription.objects.select_related("share_class").annotate(paid_total=paid)


def member_search(queryset, text: str):
    """Search by name (accent-insensitive), member number, card barcode (member or associate) or e-mail."""
    text = (text or "").strip()
    if not text:
        return queryset
    condition = Q()
    key = search_key(text)
    for word in key.split():
        condition &= Q(search_name__contains=word)
    condition |= Q(email__iexact=text)
    if "@" in text:
        condition |= Q(email__icontains=text)
    if text.isdigit():
        if len(text) <= 8:
            condition |= Q(member_number=int(text))
        code = card_code(text)
        if code:
            condition |= Q(card_barcode=code) | Q(
                Exists(Associate.objects.filter(member=OuterRef("pk"), card_barcode=code))
            )
    return queryset.filter(condition)


def holdings(member: Member) -> list[dict]:
    """Per-class holdings of shares not marked for redemption (uses prefetched subscriptions)."""
    per_class: dict[str, dict] = {}
    for sub in member.subscriptions.all():
        if sub.redemption_requested_on is not None:
            continue
        row = per_class.setdefault(
            sub.share_class.code,
            {
                "share_class": sub.share_class.code,
                "name": sub.share_class.name,
                "grants_shopping": sub.share_class.grants_shopping,
                "quantity": 0,
                "amount": Decimal("0.00"),
                "amount_paid": Decimal("0.00"),
            },
        )
        row["quantity"] += sub.quantity
        row["amount"] += sub.amount
        paid = getattr(sub, "paid_total", None)
        if paid is None:
            paid = sum((p.signed_amount for p in sub.payments.all()), Decimal("0.00"))
        row["amount_paid"] += paid
    for row in per_class.values():
        row["amount_due"] = row["amount"] - row["amount_paid"]
    return sorted(per_class.values(), key=lambda r: r["share_class"])


def login_email_state(member: Member) -> str | None:
    """After the office changed a member's e-mail: "kept" (a privileged login, never changed),
    "pending" (the member has a confirmation link), None (no login, or it already matches)."""
    user = member.user
    if user is None or user.email.lower() == member.email.lower():
        return None
    return "kept" if is_privileged_login(user) else "pending"


# --- the member's data export (DOMAIN.md §8): the members app's sections -----------------------
# Registered in members.apps; the other apps add theirs (see members/privacy.py).

def export_member(member: Member) -> dict:
    """Identity, contact, membership facts, the stored working status and the office notes."""
    return {
        "member_number": member.display_number,
        "card_barcode": member.card_barcode,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "phone": member.phone,
        "address": member.address,
        "postal_code": member.postal_code,
        "city": member.city,
        "birth_date": iso(member.birth_date),
        "joined_on": iso(member.joined_on),
        "shift_type": member.shift_type,
        "shift_type_since": iso(member.shift_type_since),
        "low_income": member.low_income,
        "membership": member.membership,
        "work_start_date": iso(member.work_start_date),
        "status": member.status,
        "counters": {"standard": member.counter_standard, "ftop": member.counter_ftop},
        "alert_deadline": iso(member.alert_deadline),
        "delay_until": iso(member.delay_until),
        "blocked_reason": member.blocked_reason,
        "left_on": iso(member.left_on),
        "left_reason": member.left_reason,
        "anonymised_on": iso(member.anonymised_on),
        "welcomed_on": iso(member.welcomed_on),
        "qualifications": [
            {
                "qualification": g.qualification.code, "since": iso(g.since), "until": iso(g.until),
                "revoked_on": iso(g.revoked_on), "revoke_reason": g.revoke_reason, "note": g.note,
            }
            for g in member.qualification_grants.select_related("qualification").order_by("since", "id")
        ],
        # The right of access covers what the office wrote about the member (never shown on their pages).
        "office_notes": member.notes,
    }


def export_login(member: Member) -> dict | None:
    user = member.user
    if user is None:
        return None
    return {
        "username": user.get_username(),
        "email": user.email,
        "date_joined": iso(user.date_joined),
        "last_login": iso(user.last_login),
    }


def export_subscriptions(member: Member) -> list[dict]:
    """Shares subscribed, with every ledger row: payments, refunds and redemptions."""
    subs = member.subscriptions.select_related("share_class").prefetch_related("payments")
    return [
        {
            "share_class": s.share_class.code,
            "quantity": s.quantity,
            "unit_price": str(s.unit_price),
            "amount": str(s.amount),
            "instalments": s.instalments,
            "subscribed_on": iso(s.subscribed_on),
            "redemption_requested_on": iso(s.redemption_requested_on),
            "redemption_due_on": iso(s.redemption_due_on),
            "redeemed_on": iso(s.redeemed_on),
            "payments": [
                {"kind": p.kind, "amount": str(p.amount), "method": p.method, "date": iso(p.paid_on), "reference": p.reference}
                for p in s.payments.all()
            ],
        }
        for s in subs
    ]


def export_stripe_checkouts(member: Member) -> list[dict]:
    return [
        {
            "session_id": c.session_id,
            "share_class": c.share_class.code,
            "quantity": c.quantity,
            "amount": str(c.amount),
            "currency": c.currency,
            "status": c.status,
            "created_at": iso(c.created_at),
            "completed_at": iso(c.completed_at),
            "note": c.note,
        }
        for c in member.stripe_checkouts.select_related("share_class").order_by("created_at", "id")
    ]


def export_associates(member: Member) -> list[dict]:
    return [
        {
            "first_name": a.first_name,
            "last_name": a.last_name,
            "card_barcode": a.card_barcode,
            "added_on": iso(a.created_at),
            "removed_on": iso(a.removed_on),
        }
        for a in member.associates.order_by("associate_number")
    ]


def export_state_history(member: Member) -> list[dict]:
    """The dated history of the member's membership and shift type."""
    return [
        {"field": row.field, "value": row.value, "effective_date": iso(row.effective_date), "written_at": iso(row.written_at)}
        for row in member.state_changes.order_by("field", "effective_date", "id")
    ]


def export_office_history(member: Member) -> list[dict]:
    """What the members office did on the member's record (registration, edits, payments...)."""
    return [
        {"kind": e.kind, "detail": e.detail, "at": iso(e.created_at)}
        for e in member.events.order_by("created_at", "id")
    ]


def redemption_queue():
    """Subscriptions marked for redemption and not yet redeemed, oldest due first, with amount paid."""
    signed = Case(When(kind=Payment.Kind.PAYMENT, then=F("amount")), default=-F("amount"), output_field=MONEY)
    paid = _sum_subquery(Payment.objects.filter(subscription=OuterRef("pk")), "subscription_id", signed, MONEY)
    return (
        ShareSubscription.objects.filter(redemption_requested_on__isnull=False)
        .select_related("member", "share_class")
        .annotate(amount_paid=paid)
        .order_by("redeemed_on", "redemption_due_on", "id")
    )


# --- the interchange files (CONTRACT.md §7) -----------------------------------------------------

def _chunked(items, size: int = 5000):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def members_matching(*, numbers, emails) -> tuple[dict[int, Member], dict[str, Member]]:
    """Members with these numbers, and members with these e-mails (lower-cased keys), in chunks."""
    from django.db.models.functions import Lower

    by_number: dict[int, Member] = {}
    by_email: dict[str, Member] = {}
    for chunk in _chunked(set(numbers)):
        by_number.update((m.member_number, m) for m in Member.objects.filter(member_number__in=chunk))
    for chunk in _chunked({e.lower() for e in emails}):
        by_email.update((m.lower_email, m) for m in Member.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=chunk))
    return by_number, by_email


def cards_held(codes) -> dict[str, int]:
    """Which of these card barcodes are held, and by which member (an associate's: its holder)."""
    held: dict[str, int] = {}
    for chunk in _chunked(set(codes)):
        held.update(Member.objects.filter(card_barcode__in=chunk).values_list("card_barcode", "pk"))
        held.update(Associate.objects.filter(card_barcode__in=chunk).values_list("card_barcode", "member_id"))
    return held


def ledgers_of(member_ids) -> tuple[dict[int, list[ShareSubscription]], dict[int, list[Associate]]]:
    """Subscriptions (class and payments prefetched) and associates of these members."""
    subscriptions: dict[int, list[ShareSubscription]] = {}
    associates: dict[int, list[Associate]] = {}
    for chunk in _chunked(member_ids):
        for sub in ShareSubscription.objects.filter(member_id__in=chunk).select_related("share_class").prefetch_related("payments"):
            subscriptions.setdefault(sub.member_id, []).append(sub)
        for associate in Associate.objects.filter(member_id__in=chunk):
            associates.setdefault(associate.member_id, []).append(associate)
    return subscriptions, associates


def interchange_members():
    """Every member, in member-number order, for the export."""
    return Member.objects.order_by("member_number")


def interchange_subscriptions():
    """Every subscription with its class and payments, by member and date, for the export."""
    return (
        ShareSubscription.objects.select_related("share_class", "member")
        .prefetch_related("payments").order_by("member__member_number", "subscribed_on", "id")
    )


def interchange_associates():
    """Current associates, and those of members who left (removed when they left), for the export."""
    return (
        Associate.objects.select_related("member")
        .filter(Q(removed_on__isnull=True) | Q(member__left_on__isnull=False, removed_on=F("member__left_on")))
        .exclude(member__anonymised_on__isnull=False)
        .order_by("member__member_number", "associate_number")
    )


def share_classes_all():
    return ShareClass.objects.order_by("code")


def sequence_value(name: str) -> int:
    """The highest number a gap-free sequence issued (or an import brought) so far."""
    from .models import Sequence

    return Sequence.objects.filter(name=name).values_list("last_value", flat=True).first() or 0
# --- open figures (read by the `figures` app) ---------------------------------------------------

WORKING_STATUSES = ("up_to_date", "alert", "delay", "suspended")


def member_counts() -> dict[str, int]:
    """Members by stored membership (`active`, `unpaid`, `supporting`, ...) and `working` (members
    in the shift system who owe shifts now: up to date, alert, delay or suspended). One query."""
    counts = dict(Member.objects.order_by().values_list("membership").annotate(n=Count("id")))
    working = Member.objects.filter(status__in=WORKING_STATUSES).exclude(membership=Member.Membership.LEFT).count()
    return {**{value: counts.get(value, 0) for value in Member.Membership.values}, "working": working}


def share_capital(*, as_of) -> dict:
    """Share capital on a date, every class: `subscribed` (shares held then: subscribed on or before
    it, not redeemed by then), `paid` (the ledger's signed sum up to it) and `holders` (members
    holding shares then). Two queries."""
    held = ShareSubscription.objects.filter(Q(redeemed_on__isnull=True) | Q(redeemed_on__gt=as_of), subscribed_on__lte=as_of)
    facts = held.aggregate(subscribed=Sum("amount"), holders=Count("member", distinct=True))
    paid = Payment.objects.filter(paid_on__lte=as_of).aggregate(total=Sum(_signed_payments()))["total"]
    cents = Decimal("0.01")
    return {
        "subscribed": (facts["subscribed"] or Decimal(0)).quantize(cents),
        "paid": (paid or Decimal(0)).quantize(cents),
        "holders": facts["holders"] or 0,
    }
