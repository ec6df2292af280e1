"""The offline card list (CONTRACT.md §5, DOMAIN.md §6): every card the till may meet with its
answer, for a till device that loses the server.

Each card is `{card_barcode, display_name, associate, can_shop, status, reasons, warnings, colour}`
and nothing else: no sentence (the till page writes it from `reasons` and `warnings` in its own
language) and no time. The list is built from the stored standing in two queries, with one
eligibility decision per distinct standing (most members share a handful), and served as JSON
text assembled card by card, so that it is cheap at 100,000 members.

Versions: the ETag is a digest of the cards. The first time a content is served it becomes a
`CardListVersion` dated then (`generated_at`), with a CRC of each card; an unchanged list keeps that
date and ETag, so a till that sends `If-None-Match` gets a 304, and a till that sends
`?since=<its generated_at>` gets the cards changed since that version and the barcodes no longer
listed (`removed`). When `since` is older than the versions kept (`KEEP`), the answer is the whole
list with `"full": true`, and the till replaces its list instead of merging.

Revalidation: on PostgreSQL, a till's `If-None-Match` first reads a fingerprint of every column a
card is built from (one aggregate statement, `fingerprint`). When this process has built the list
from rows with that fingerprint, it knows the ETag and answers 304 without building the list.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import zlib
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from members.models import Associate, Member

from . import eligibility as el
from . import services
from .models import CardListVersion

KEEP = datetime.timedelta(days=7)  # versions older than this (but the newest) are pruned
MEMBER_COLUMNS = (
    "id", "card_barcode", "first_name", "last_name", "membership", "status", "blocked_reason", "counter_standard",
    "counter_ftop", "shift_type", "alert_deadline", "delay_until", "refusals",
)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _verdict(standing: el.Standing) -> str:
    """The answer part of a card, as JSON members: can_shop, status, reasons, warnings, colour."""
    return _dumps(services.verdict(el.decide(standing)))[1:-1]


def _card(barcode: str, first: str, last: str, *, associate: bool, verdict: str) -> str:
    return (f'{{"card_barcode":{_dumps(barcode)},"display_name":{_dumps(el.display_name(first, last))},'
            f'"associate":{_dumps(associate)},{verdict}}}')


def current_cards() -> dict[str, str]:
    """{card barcode: the card as JSON text}, for members who have not left and were not anonymised,
    and current associates (also of a holder who left: red `left_coop`), anonymised holders' never."""
    verdicts: dict[tuple, str] = {}
    by_member: dict[int, str] = {}
    cards: dict[str, str] = {}
    rows = Member.objects.filter(anonymised_on__isnull=True).values_list(*MEMBER_COLUMNS)
    for (pk, barcode, first, last, membership, status, blocked, standard, ftop, shift_type, deadline, delay,
         refusals) in rows.iterator(chunk_size=5000):
        owed = Member.owed(shift_type, standard, ftop)
        key = (membership, status, bool(blocked), owed, deadline, delay, refusals or "")
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = _verdict(services.standing(
                membership=membership, status=status, blocked_reason=blocked, makeups_owed=owed, alert_deadline=deadline,
                delay_until=delay, refusals=refusals))
        by_member[pk] = verdict
        if membership != Member.Membership.LEFT and barcode:
            cards[barcode] = _card(barcode, first, last, associate=False, verdict=verdict)
    associates = Associate.objects.filter(Q(removed_on__isnull=True) | Q(member__membership=Member.Membership.LEFT))
    for barcode, first, last, member_id in associates.values_list("card_barcode", "first_name", "last_name", "member_id").iterator(chunk_size=5000):
        verdict = by_member.get(member_id)
        if verdict is not None and barcode:
            cards[barcode] = _card(barcode, first, last, associate=True, verdict=verdict)
    return cards


ASSOCIATE_COLUMNS = ("id", "card_barcode", "first_name", "last_name", "member_id", "removed_on")

# This process's memory of which list the rows give: {fingerprint of the rows: the list's ETag}. An
# unchanged list then answers 304 after one aggregate query instead of being built to compare.
_KNOWN: dict[str, str] = {}
KNOWN_MAX = 8


def fingerprint() -> str | None:
    """A digest of every column a card is built from, over all members and associates, computed by
    PostgreSQL (>= 14) in one statement: the row count and the XOR of a 64-bit hash of each row's
    columns. None on other databases (the list is then built to compare)."""
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return None
    q = connection.ops.quote_name

    def part(model, names) -> str:
        columns = ", ".join(q(model._meta.get_field(name).column) for name in names)
        return f"SELECT count(*), bit_xor(hashtextextended(ROW({columns})::text, 0)) FROM {q(model._meta.db_table)}"

    with connection.cursor() as cursor:
        cursor.execute(f"{part(Member, (*MEMBER_COLUMNS, 'anonymised_on'))} UNION ALL {part(Associate, ASSOCIATE_COLUMNS)}")
        return " ".join(f"{count}:{xor}" for count, xor in cursor.fetchall())


def known_etag(print_: str | None) -> str | None:
    """The ETag of the list these rows give, when this process has built it."""
    return _KNOWN.get(print_) if print_ else None


def _remember(print_: str | None, etag: str) -> None:
    """Remember the ETag of a list built from rows with this fingerprint, only when the rows did not
    change while it was built (the fingerprint taken again after the build is the same)."""
    if print_ is None or fingerprint() != print_:
        return
    if len(_KNOWN) >= KNOWN_MAX:
        _KNOWN.pop(next(iter(_KNOWN)))
    _KNOWN[print_] = etag


def _etag(cards: dict[str, str]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for barcode in sorted(cards):
        digest.update(cards[barcode].encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _crcs(cards: dict[str, str]) -> dict[str, int]:
    return {barcode: zlib.crc32(text.encode()) for barcode, text in cards.items()}


def _version_for(etag: str, cards: dict[str, str], now: datetime.datetime) -> CardListVersion:
    """The version of this content: the stored one, or a new one dated now (old ones pruned)."""
    version = CardListVersion.objects.filter(etag=etag).defer("digests").first()
    if version is not None:
        return version
    packed = zlib.compress(_dumps(_crcs(cards)).encode(), 6)
    try:
        with transaction.atomic():
            version = CardListVersion.objects.create(etag=etag, generated_at=now, card_count=len(cards), digests=packed)
    except IntegrityError:  # another till asked for the same new content at the same moment
        return CardListVersion.objects.defer("digests").get(etag=etag)
    CardListVersion.objects.filter(generated_at__lt=now - KEEP).exclude(pk=version.pk).delete()
    return version


@dataclass
class CardList:
    etag: str
    generated_at: datetime.datetime
    cards: list[str]  # JSON texts
    removed: list[str]
    full: bool

    def body(self) -> bytes:
        stamp = self.generated_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
        return (f'{{"generated_at":{_dumps(stamp)},"full":{_dumps(self.full)},"cards":[{",".join(self.cards)}],'
                f'"removed":{_dumps(self.removed)}}}').encode()


def card_list(*, now: datetime.datetime, since: datetime.datetime | None = None, print_: str | None = None) -> CardList:
    """The list as it stands: whole, or with `since` the cards changed since the version a till
    held then and the barcodes gone from it (whole, `full`, when that version is no longer kept).
    `print_`: the rows' fingerprint taken before, remembered with the ETag if still the same."""
    cards = current_cards()
    etag = _etag(cards)
    _remember(print_, etag)
    version = _version_for(etag, cards, now)
    base = None
    if since is not None:
        base = CardListVersion.objects.filter(generated_at__lte=since).order_by("-generated_at").first()
    if base is None:
        return CardList(etag, version.generated_at, [cards[b] for b in sorted(cards)], [], full=True)
    if base.pk == version.pk:
        return CardList(etag, version.generated_at, [], [], full=False)
    held = json.loads(zlib.decompress(bytes(base.digests)))
    crcs = _crcs(cards)
    changed = [cards[b] for b in sorted(cards) if held.get(b) != crcs[b]]
    removed = sorted(b for b in held if b not in cards)
    return CardList(etag, version.generated_at, changed, removed, full=False)
