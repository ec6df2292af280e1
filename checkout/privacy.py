"""What the till keeps about a member: the checks of their cards and their associates' cards
(DOMAIN.md §8). Registered with members.privacy in CheckoutConfig.ready()."""
from __future__ import annotations

import datetime

from members.models import Member
from members.privacy import iso, register_anonymiser, register_export_section

from .models import TillCheck


def export_till_checks(member: Member) -> list[dict]:
    """Every check of the member's cards: when, which card, the answer. The cashier is not named."""
    return [
        {
            "checked_at": iso(check.checked_at),
            "kind": check.kind,
            "code": check.code,
            "associate_card": check.associate_id is not None,
            "can_shop": check.can_shop,
            "status": check.status,
            "reasons": check.reasons,
            "offline": check.offline,
            "override_reason": check.reason,
        }
        for check in TillCheck.objects.filter(member=member).order_by("checked_at", "id")
    ]


def anonymise(member: Member, today: datetime.date) -> None:
    """The check log is append-only: only the cashier's free-text override reason is blanked."""
    TillCheck.objects.filter(member=member).anonymise(reason="")


def register() -> None:
    register_export_section("till_checks", export_till_checks)
    register_anonymiser("checkout", anonymise)
