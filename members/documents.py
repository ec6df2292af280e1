"""The members app's printed documents: the membership certificate and the member card (PDF)."""
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.safestring import mark_safe

from coopmarket.pdf import render_pdf

from .cards import ean13_svg
from .models import Member, ShareClass


@dataclass(frozen=True)
class ShareHolding:
    """The shares a member holds in one class at one nominal value."""

    share_class: ShareClass
    quantity: int
    unit_price: Decimal
    nominal: Decimal
    paid: Decimal

    @property
    def due(self) -> Decimal:
        return self.nominal - self.paid


def share_holdings(member: Member) -> list[ShareHolding]:
    """Shares held (subscriptions not marked for redemption), grouped by class and unit price."""
    subscriptions = (
        member.subscriptions.filter(redemption_requested_on__isnull=True)
        .select_related("share_class")
        .prefetch_related("payments")
        .order_by("share_class__code", "unit_price", "subscribed_on", "id")
    )
    groups: dict[tuple[int, Decimal], dict] = {}
    for sub in subscriptions:
        group = groups.setdefault(
            (sub.share_class_id, sub.unit_price),
            {"share_class": sub.share_class, "unit_price": sub.unit_price, "quantity": 0,
             "nominal": Decimal("0"), "paid": Decimal("0")},
        )
        group["quantity"] += sub.quantity
        group["nominal"] += sub.amount
        group["paid"] += sum((p.signed_amount for p in sub.payments.all()), Decimal("0"))
    return [ShareHolding(**group) for group in groups.values()]


def render_certificate(member: Member, *, today: datetime.date) -> bytes:
    """The A4 certificate of membership, listing the shares held on `today` (the date of issue)."""
    holdings = share_holdings(member)
    totals = {
        "quantity": sum(h.quantity for h in holdings),
        "nominal": sum((h.nominal for h in holdings), Decimal("0")),
        "paid": sum((h.paid for h in holdings), Decimal("0")),
    }
    totals["due"] = totals["nominal"] - totals["paid"]
    context = {
        "coop_name": settings.COOP_NAME,
        "member": member,
        "holdings": holdings,
        "totals": totals,
        "today": today,
    }
    return render_pdf("members/pdf/certificate.html", context)


def render_card(member: Member) -> bytes:
    """The member card: one page of ID-1 size (85.60 x 53.98 mm) with the scannable barcode."""
    context = {
        "coop_name": settings.COOP_NAME,
        "member": member,
        # ean13_svg builds the markup from digits it has validated: nothing user-supplied in it.
        "barcode_svg": mark_safe(ean13_svg(member.card_barcode)),
    }
    return render_pdf("members/pdf/card.html", context)
