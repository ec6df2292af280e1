"""Till services: look a card up (one indexed query on stored status), log every check,
overrides, the offline card list, and who may use the till."""
from __future__ import annotations

import datetime
import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from coopmarket import roles
from coopmarket.errors import RuleViolation
from members.barcodes import ASSOCIATE_PREFIX, MEMBER_PREFIX, card_code
from members.models import Associate, CoopParameters, Member
from members.text import search_key
from shifts.models import Registration

from . import checklog
from . import eligibility as el
from .models import TillCheck

MEMBER_FIELDS = (
    "id", "member_number", "card_barcode", "first_name", "last_name", "membership", "status", "blocked_reason",
    "counter_standard", "counter_ftop", "shift_type", "alert_deadline", "delay_until", "refusals",
)


class Holder:
    """The card holder found for a code: a member, or an associate shopping on a member's standing."""

    def __init__(self, member: Member, associate: Associate | None = None):
        self.member = member
        self.associate = associate

    @property
    def card_barcode(self) -> str:
        return (self.associate or self.member).card_barcode

    @property
    def display_name(self) -> str:
        person = self.associate or self.member
        return el.display_name(person.first_name, person.last_name)


def member_key(code: str) -> tuple[str, object] | None:
    """The unique member column and value a code is looked up by, or None when only an associate's
    card can match it (or the code is malformed). What `find_holder` reads first."""
    code = (code or "").strip()
    card = card_code(code)
    if card is not None:
        return None if card.startswith(ASSOCIATE_PREFIX) else ("card_barcode", card)
    if code.isdigit() and len(code) <= 8 and int(code) > 0:
        return ("member_number", int(code))
    return None


class Prefetched:
    """The member already read for a `member_key` (None: no such member), in the statement that
    checked the till's token (checkout.api.TillAuthentication): one round trip per scan."""

    def __init__(self, key: tuple[str, object], member: Member | None):
        self.key = key
        self.member = member


def find_holder(code: str, *, prefetched: Prefetched | None = None) -> Holder | None:
    """Card barcode (member or associate, 12-digit scans too) or member number -> holder, in one
    indexed query (none when `prefetched` holds the member). None for an unknown or malformed code."""
    key = member_key(code)

    def member_holder() -> Holder | None:
        if prefetched is not None and prefetched.key == key:
            member = prefetched.member
        else:
            member = _member_where(*key)
        return Holder(member) if member else None

    card = card_code((code or "").strip())
    if card is None:
        return member_holder() if key else None
    # The prefixes of the cards issued here say whose they are (one query; the import keeps them
    # so). A card kept from the coop's previous system (CONTRACT.md §7) may be either.
    if card.startswith(ASSOCIATE_PREFIX):
        return _associate_holder(card)
    if card.startswith(MEMBER_PREFIX):
        return member_holder()
    return member_holder() or _associate_holder(card)


def member_join(key: tuple[str, object]) -> tuple[str, str, list]:
    """The member of `key` as extra columns of another statement (a LEFT JOIN on the unique
    column): what the till's authentication reads with the token (`TokenAuthentication.joined`)."""
    column, value = key
    return (*_member_join_sql(column), [value])


@functools.cache
def _member_join_sql(column: str) -> tuple[str, str]:
    q = connection.ops.quote_name
    columns = "".join(f", tm.{q(Member._meta.get_field(name).column)}" for name in _member_columns())
    return columns, f"LEFT JOIN {q(Member._meta.db_table)} tm ON tm.{q(Member._meta.get_field(column).column)} = %s"


def member_from_join(key: tuple[str, object], values: tuple) -> Prefetched:
    """`member_join`'s columns -> the Member `_member_where` would have read (None: no member)."""
    return Prefetched(key, _member_from_row(values) if values[0] is not None else None)  # id NULL: no one


@functools.cache
def _member_columns() -> tuple[str, ...]:
    """MEMBER_FIELDS in the model's field order, as Model.from_db wants them."""
    return tuple(f.attname for f in Member._meta.concrete_fields if f.attname in MEMBER_FIELDS)


@functools.cache
def _member_sql(column: str) -> str:
    fields = [Member._meta.get_field(name) for name in _member_columns()]
    return (f"SELECT {', '.join(connection.ops.quote_name(f.column) for f in fields)} FROM {connection.ops.quote_name(Member._meta.db_table)} "
            f"WHERE {connection.ops.quote_name(Member._meta.get_field(column).column)} = %s LIMIT 1")


def _member_where(column: str, value) -> Member | None:
    """The till's hot path: one member by a unique column (card barcode or number), in one
    prepared statement without building an ORM query (a fifth of a lookup's time at the till)."""
    with connection.cursor() as cursor:
        cursor.execute(_member_sql(column), [value])
        row = cursor.fetchone()
    return _member_from_row(row) if row else None


def _member_from_row(values) -> Member:
    """A Member from `_member_columns()`'s values, as every till read builds it."""
    return Member.from_db(connection.alias, _member_columns(), values)


ASSOCIATE_FIELDS = ("id", "member_id", "card_barcode", "first_name", "last_name")


@functools.cache
def _associate_columns() -> tuple[str, ...]:
    return tuple(f.attname for f in Associate._meta.concrete_fields if f.attname in ASSOCIATE_FIELDS)


@functools.cache
def _associate_sql() -> str:
    q = connection.ops.quote_name
    associate = [q(Associate._meta.get_field(name).column) for name in _associate_columns()]
    member = [q(Member._meta.get_field(name).column) for name in _member_columns()]
    return (f"SELECT {', '.join(f'a.{c}' for c in associate)}, {', '.join(f'm.{c}' for c in member)} "
            f"FROM {q(Associate._meta.db_table)} a JOIN {q(Member._meta.db_table)} m ON m.{q('id')} = a.{q('member_id')} "
            f"WHERE a.{q('card_barcode')} = %s AND (a.{q('removed_on')} IS NULL OR m.{q('membership')} = %s) LIMIT 1")


def _associate_holder(card: str) -> Holder | None:
    """A current associate by card, or one whose holder left (they get the holder's red
    `left_coop`), with the holder's standing: one prepared statement, like `_member_where`."""
    with connection.cursor() as cursor:
        cursor.execute(_associate_sql(), [card, Member.Membership.LEFT.value])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_associate_columns())
    member = _member_from_row(row[split:])
    associate = Associate.from_db(connection.alias, _associate_columns(), row[:split])
    associate.member = member
    return Holder(member, associate)


def standing(*, membership: str, status: str, blocked_reason: str, makeups_owed: int, alert_deadline, delay_until,
             refusals: str) -> el.Standing:
    """The till's view of the stored standing (the member's fields, or the same columns read in bulk)."""
    return el.Standing(
        membership=membership, status=status, blocked=bool(blocked_reason), makeups_owed=makeups_owed,
        alert_deadline=alert_deadline, delay_until=delay_until,
        refusals=tuple(code for code in (refusals or "").split(",") if code),
    )


def standing_of(member: Member) -> el.Standing:
    return standing(membership=member.membership, status=member.status, blocked_reason=member.blocked_reason,
                    makeups_owed=member.makeups_owed, alert_deadline=member.alert_deadline, delay_until=member.delay_until,
                    refusals=member.refusals)


def verdict(decision: el.Decision) -> dict:
    """The answer's part shared by the online answer and the offline card (CONTRACT.md §5)."""
    return {
        "can_shop": decision.can_shop,
        "status": decision.status,
        "reasons": list(decision.reasons),
        "warnings": [
            {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in w.items()} for w in decision.warnings
        ],
        "colour": decision.colour,
    }


def answer(holder: Holder, *, now: datetime.datetime) -> dict:
    """The eligibility object of CONTRACT.md §5 (no contact data)."""
    decision = el.decide(standing_of(holder.member))
    return {
        "member_number": holder.member.member_number,
        "display_name": holder.display_name,
        "card_barcode": holder.card_barcode,
        "associate": holder.associate is not None,
        **verdict(decision),
        "message": el.message(decision, holder.display_name),
        "checked_at": now.isoformat(),
    }


def _log(**fields) -> None:
    """Write one check-log row, off the request when the coop runs the deferred log (checklog)."""
    checklog.record(**fields)


def till_check(*, code: str, user, now: datetime.datetime, source: str = TillCheck.Source.SCAN,
               prefetched: Prefetched | None = None) -> dict | None:
    """Look a code up and log the check (the only write a lookup makes), also when the cashier
    opened a name-search result (`source`). None when unknown."""
    holder = find_holder(code, prefetched=prefetched)
    if holder is None:
        _log(user_id=getattr(user, "pk", None), code=code[:64], checked_at=now, source=source)
        return None
    result = answer(holder, now=now)
    _log(
        user_id=getattr(user, "pk", None), code=code[:64], member_id=holder.member.pk, associate_id=holder.associate.pk if holder.associate else None,
        can_shop=result["can_shop"], status=result["status"], reasons=result["reasons"], checked_at=now, source=source,
    )
    return result


OFFLINE_MAX_AGE = datetime.timedelta(days=30)
OFFLINE_CLOCK_SKEW = datetime.timedelta(minutes=10)


def till_log_offline(*, entries: list[dict], user, now: datetime.datetime) -> dict[str, int]:
    """Answers a till gave while offline, sent when it is back: each becomes a check-log row
    flagged offline with its own time. A resent entry (same device id) is ignored, so a retry
    after a lost response logs nothing twice. Entries dated in the future or older than 30 days
    are refused (400), and then nothing is written."""
    errors = {}
    for index, entry in enumerate(entries):
        when = entry["checked_at"]
        if when > now + OFFLINE_CLOCK_SKEW or when < now - OFFLINE_MAX_AGE:
            errors[str(index)] = [_("An offline check is dated between 30 days ago and now.")]
    if errors:
        raise ValidationError(errors)
    seen = set(TillCheck.objects.filter(client_id__in=[e["id"] for e in entries]).values_list("client_id", flat=True))
    rows = []
    for entry in entries:
        if entry["id"] in seen:
            continue
        seen.add(entry["id"])
        holder = find_holder(entry["code"])
        rows.append(TillCheck(
            user=user, code=entry["code"][:64], member=holder.member if holder else None,
            associate=holder.associate if holder else None, can_shop=entry.get("can_shop"), status=(entry.get("status") or "")[:16],
            reasons=list(entry.get("reasons") or []), offline=True, source=entry.get("source") or TillCheck.Source.SCAN,
            client_id=entry["id"], checked_at=entry["checked_at"], received_at=now,
        ))
    TillCheck.objects.bulk_create(rows, ignore_conflicts=True)
    return {"received": len(entries), "logged": len(rows)}


def till_search(*, text: str, now: datetime.datetime, limit: int = 20) -> list[dict]:
    """Members (and associates) by name, accent-insensitive, for a member who forgot their card."""
    words = search_key(text).split()
    if not words or len("".join(words)) < 2:
        raise ValidationError({"search": [_("Type at least two letters of a name.")]})
    condition = Q()
    for word in words:
        condition &= Q(search_name__contains=word)
    members = list(Member.objects.only(*MEMBER_FIELDS).filter(condition).order_by("last_name", "first_name")[:limit])
    associates = list(
        Associate.objects.select_related("member").only(
            "id", "card_barcode", "first_name", "last_name", "member_id", *(f"member__{f}" for f in MEMBER_FIELDS))
        .filter(condition, removed_on__isnull=True).order_by("last_name", "first_name")[:limit]
    )
    holders = [Holder(m) for m in members] + [Holder(a.member, a) for a in associates]
    holders.sort(key=lambda h: ((h.associate or h.member).last_name.casefold(), (h.associate or h.member).first_name.casefold()))
    return [answer(h, now=now) for h in holders[:limit]]


def till_override(*, code: str, reason: str, user, now: datetime.datetime) -> TillCheck:
    """A cashier lets a refused member shop, when the coop's parameter allows it; logged with a reason."""
    if not CoopParameters.current().till_override_allowed:
        raise RuleViolation("not_allowed", _("Red answers are a hard block in this coop."))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why you let this member shop.")]})
    holder = find_holder(code)
    if holder is None:
        raise LookupError(code)
    if holder.member.user_id is not None and holder.member.user_id == user.pk:
        raise PermissionDenied(_("Nobody overrides their own answer: ask another cashier or a coordinator."))
    result = answer(holder, now=now)
    return TillCheck.objects.create(
        kind=TillCheck.Kind.OVERRIDE, user=user, code=code[:64], member=holder.member, associate=holder.associate,
        can_shop=result["can_shop"], status=result["status"], reasons=result["reasons"], reason=reason.strip(), checked_at=now,
    )


def may_hold_card_list(user) -> bool:
    """The offline card list stays on till devices and coordinators' screens, never on a
    member's own account (DOMAIN.md §6)."""
    return roles.is_cashier(user) or roles.is_coordinator(user)


def may_use_till(user, *, now: datetime.datetime) -> bool:
    """Cashier devices, coordinators, and any member registered on a shift running now (from 20
    minutes before its start to 20 minutes after its end)."""
    if not user or not user.is_authenticated:
        return False
    if roles.is_cashier(user) or roles.is_coordinator(user):
        return True
    window = datetime.timedelta(minutes=CoopParameters.current().till_window_minutes)
    return Registration.objects.filter(
        member__user=user, cancelled_at__isnull=True, shift__cancelled=False,
        shift__start__lte=now + window, shift__end__gte=now - window,
    ).exists()
