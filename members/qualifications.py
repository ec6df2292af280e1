"""Qualifications (DOMAIN.md §9): the list the coordinators keep, who holds which and when, and the
welcome date.

- Pure core: `Held` periods, `held_on`, `expires_on` (no database, no clock).
- Reads: `held_q`, `held_ids`, `holdings_of`, `holders_count`, `held_codes_today`,
  `qualifications_by_code`, `grants_known`, `interchange_grants`.
- Services (each in one transaction, logged in the member's history): `qualification_create`,
  `qualification_update`, `member_qualification_grant`, `member_qualification_revoke`,
  `member_qualifications_import` (bulk, for a coop's import), `member_welcomed_set`,
  `members_welcomed_import` (bulk), `welcome_before_booking_set`.

A qualification counts on a date when a grant covers it: `since <= day <= until` (no `until`: no
expiry) and not revoked by then. A refresher training is a new grant (it may overlap the old one).
The shift app reacts to grants and revokes (`qualifications_changed`) by re-seating the member's
coming registrations; members never import shifts.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coopmarket.errors import RuleViolation

from .models import CoopParameters, Member, MemberEvent, MemberQualification, Qualification
from .signals import qualifications_changed

# The default list (created by migration 0011), marked for translation of their names.
DEFAULT_NAMES = (
    gettext_noop("Shift leader"), gettext_noop("Cashier"), gettext_noop("Reception"),
    gettext_noop("Opens and closes the shop, leads the team of the shift and records attendance."),
    gettext_noop("Trained on the tills: payments, refunds and closing the cash register."),
    gettext_noop("Receives deliveries: checks them against the order, may drive the pallet truck."),
)
MAX_TEXT = 255


# --- pure core ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Held:
    """One grant: held from `since` to `until` (included; None = no expiry), not from `revoked_on`."""

    since: datetime.date
    until: datetime.date | None = None
    revoked_on: datetime.date | None = None

    @property
    def last_day(self) -> datetime.date | None:
        """The last day held (None: open-ended)."""
        ends = [d for d in (self.until, self.revoked_on - datetime.timedelta(days=1) if self.revoked_on else None) if d]
        return min(ends) if ends else None

    def covers(self, day: datetime.date) -> bool:
        last = self.last_day
        return self.since <= day and (last is None or day <= last)


def held_on(periods: Iterable[Held], day: datetime.date) -> bool:
    return any(p.covers(day) for p in periods)


def expires_on(periods: Iterable[Held], day: datetime.date) -> datetime.date | None:
    """The last day of the unbroken stretch of holding that contains `day` (grants that overlap or
    follow each other day to day join up); None when it has no end, or `day` is not held."""
    spans = sorted(((p.since, p.last_day) for p in periods if p.last_day is None or p.last_day >= p.since), key=lambda s: s[0])
    merged: list[tuple[datetime.date, datetime.date | None]] = []
    for since, last in spans:
        if merged and (merged[-1][1] is None or since <= merged[-1][1] + datetime.timedelta(days=1)):
            first, previous = merged[-1]
            merged[-1] = (first, None if previous is None or last is None else max(previous, last))
        else:
            merged.append((since, last))
    for since, last in merged:
        if since <= day and (last is None or day <= last):
            return last
    return None


# --- reads ----------------------------------------------------------------------------------------

def held_q(day: datetime.date, prefix: str = "") -> Q:
    """Rows of MemberQualification (through `prefix`, e.g. "qualification_grants__") held on `day`."""
    return (
        Q(**{f"{prefix}since__lte": day})
        & (Q(**{f"{prefix}until__isnull": True}) | Q(**{f"{prefix}until__gte": day}))
        & (Q(**{f"{prefix}revoked_on__isnull": True}) | Q(**{f"{prefix}revoked_on__gt": day}))
    )


def held_ids(member: Member | int, day: datetime.date) -> set[int]:
    """Ids of the qualifications a member holds on `day`: one query."""
    member_id = member if isinstance(member, int) else member.pk
    return set(MemberQualification.objects.filter(held_q(day), member_id=member_id).values_list("qualification_id", flat=True))


def holdings_of(member_ids, *, first: datetime.date | None = None, last: datetime.date | None = None) -> dict[int, dict[int, list[Held]]]:
    """{member_id: {qualification_id: [Held, ...]}} for grants that touch [first, last]: one query."""
    rows = MemberQualification.objects.filter(member_id__in=list(member_ids))
    if last is not None:
        rows = rows.filter(since__lte=last)
    if first is not None:
        rows = rows.filter(Q(until__isnull=True) | Q(until__gte=first)).filter(Q(revoked_on__isnull=True) | Q(revoked_on__gt=first))
    result: dict[int, dict[int, list[Held]]] = {}
    for member_id, qualification_id, since, until, revoked_on in rows.values_list(
        "member_id", "qualification_id", "since", "until", "revoked_on"
    ):
        result.setdefault(member_id, {}).setdefault(qualification_id, []).append(Held(since, until, revoked_on))
    return result


def ids_held_from(holdings: dict[int, list[Held]], day: datetime.date) -> set[int]:
    """The qualification ids held on `day`, from one member's `holdings_of` entry."""
    return {qualification_id for qualification_id, periods in holdings.items() if held_on(periods, day)}


def qualifications_by_code() -> dict[str, Qualification]:
    """The list the coordinators keep, by code (what templates and imports name): one query."""
    return {q.code: q for q in Qualification.objects.order_by("position", "code")}


def grants_known(member_ids) -> set[tuple[int, int, datetime.date, datetime.date | None]]:
    """(member id, qualification id, since, last day held or None) of every grant of these
    members, a revocation counted (`Held.last_day`): what an import compares its rows with. One
    query per 1,000 members."""
    member_ids = sorted(set(member_ids))
    known = set()
    for start in range(0, len(member_ids), 1000):
        for member_id, qualification_id, since, until, revoked_on in MemberQualification.objects.filter(
            member_id__in=member_ids[start:start + 1000],
        ).values_list("member_id", "qualification_id", "since", "until", "revoked_on"):
            known.add((member_id, qualification_id, since, Held(since, until, revoked_on).last_day))
    return known


def holders_count(day: datetime.date) -> dict[int, int]:
    """How many members (not left) hold each qualification on `day`: one query."""
    rows = (
        MemberQualification.objects.filter(held_q(day)).exclude(member__membership=Member.Membership.LEFT)
        .values("qualification_id").annotate(n=Count("member_id", distinct=True)).order_by()
    )
    return {row["qualification_id"]: row["n"] for row in rows}


def qualification_list():
    """Qualifications with `holders` (members not left holding it today) and `grants_total`."""
    today = timezone.localdate()
    return Qualification.objects.annotate(
        holders=Count("grants__member", distinct=True,
                      filter=held_q(today, "grants__") & ~Q(grants__member__membership=Member.Membership.LEFT)),
    ).order_by("position", "code")


def member_qualification_rows(member: Member, *, today: datetime.date) -> list[dict]:
    """What a member page shows: one row per qualification ever granted (held now, coming or
    ended), with the expiry of the current stretch. Two queries."""
    grants = list(member.qualification_grants.select_related("qualification", "granted_by", "revoked_by").order_by("since", "id"))
    by_qualification: dict[int, list[MemberQualification]] = {}
    for grant in grants:
        by_qualification.setdefault(grant.qualification_id, []).append(grant)
    rows = []
    for rows_of in by_qualification.values():
        qualification = rows_of[0].qualification
        periods = [Held(g.since, g.until, g.revoked_on) for g in rows_of]
        held = held_on(periods, today)
        coming = [p.since for p in periods if p.since > today and (p.last_day is None or p.last_day >= p.since)]
        rows.append({
            "qualification": qualification,
            "held": held,
            "expires_on": expires_on(periods, today) if held else None,
            "starts_on": min(coming) if not held and coming else None,
            "grants": rows_of,
            "revocable": held or bool(coming),
        })
    rows.sort(key=lambda r: (not r["held"], r["qualification"].position, r["qualification"].code))
    return rows


def held_codes_today(member: Member, today: datetime.date) -> list[str]:
    """The codes a member holds today, in the list's order (for the member object)."""
    cached = getattr(member, "qualifications_today", None)
    if cached is not None:
        codes: list[str] = []
        for grant in sorted(cached, key=lambda g: (g.qualification.position, g.qualification.code)):
            if grant.qualification.code not in codes:
                codes.append(grant.qualification.code)
        return codes
    return list(
        Qualification.objects.filter(held_q(today, "grants__"), grants__member=member).distinct()
        .order_by("position", "code").values_list("code", flat=True)
    )


# --- services ------------------------------------------------------------------------------------

def _author(by):
    return by if by is not None and getattr(by, "pk", None) else None


def _log(member: Member, kind: str, detail: str, by) -> None:
    MemberEvent.objects.create(member=member, kind=kind, detail=detail[:1000], author=_author(by))


def _clean_text(value, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationError({field: [_("Enter text.")]})
    if "\x00" in text:
        raise ValidationError({field: [_("Null characters are not allowed.")]})
    if required and not text:
        raise ValidationError({field: [_("This field is required.")]})
    if len(text) > max_length:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return text


@transaction.atomic
def qualification_create(*, code: str, name: str, description: str = "", by=None) -> Qualification:
    """A new qualification: its code is a short slug (letters, digits, - and _), unique, never changed."""
    code = _clean_text(code, "code", required=True, max_length=20)
    if slugify(code) != code or code != code.lower():
        raise ValidationError({"code": [_("Use lower-case letters, digits, - and _ only (e.g. forklift).")]})
    name = _clean_text(name, "name", required=True, max_length=100)
    description = _clean_text(description, "description", max_length=2000)
    if Qualification.objects.filter(code=code).exists():
        raise ValidationError({"code": [_("A qualification with this code exists already.")]})
    last = Qualification.objects.order_by("-position").values_list("position", flat=True).first() or 0
    return Qualification.objects.create(code=code, name=name, description=description, position=last + 10)


@transaction.atomic
def qualification_update(*, qualification: Qualification, name: str | None = None, description: str | None = None,
                         by=None) -> Qualification:
    """Rename or describe a qualification (the code stays: templates and imports name it)."""
    qualification = Qualification.objects.select_for_update().get(pk=qualification.pk)
    if name is not None:
        qualification.name = _clean_text(name, "name", required=True, max_length=100)
    if description is not None:
        qualification.description = _clean_text(description, "description", max_length=2000)
    qualification.save(update_fields=["name", "description"])
    return qualification


def _check_dates(since, until) -> None:
    errors = {}
    if not isinstance(since, datetime.date):
        errors["since"] = [_("Give the date the qualification is held from.")]
    if until is not None and not isinstance(until, datetime.date):
        errors["until"] = [_("Give a date or nothing.")]
    elif until is not None and isinstance(since, datetime.date) and until < since:
        errors["until"] = [_("The expiry is on or after the start.")]
    if errors:
        raise ValidationError(errors)


def _grant(member: Member, qualification: Qualification, *, since, until, note: str, by) -> tuple[MemberQualification, bool]:
    """Write one grant unless the same one (same dates, not revoked) exists; (row, created)."""
    existing = MemberQualification.objects.filter(
        member=member, qualification=qualification, since=since, until=until, revoked_on__isnull=True,
    ).first()
    if existing is not None:
        return existing, False
    return MemberQualification.objects.create(
        member=member, qualification=qualification, since=since, until=until, note=note, granted_by=_author(by),
    ), True


def _grant_detail(qualification: Qualification, since, until) -> str:
    detail = f"{qualification.code} from {since.isoformat()}"
    return detail + (f" until {until.isoformat()}" if until else "")


@transaction.atomic
def member_qualification_grant(
    *, member: Member, qualification: Qualification, since: datetime.date, today: datetime.date,
    until: datetime.date | None = None, note: str = "", by=None,
) -> MemberQualification:
    """Record that a member holds a qualification from `since` (a past training may be recorded
    with its real date), until `until` if it expires. Granting the same dates twice writes nothing."""
    _check_dates(since, until)
    note = _clean_text(note, "note")
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    grant, created = _grant(member, qualification, since=since, until=until, note=note, by=by)
    if created:
        _log(member, "qualification_granted", _grant_detail(qualification, since, until), by)
        qualifications_changed.send(sender=MemberQualification, member=member, today=today)
    return grant


def holds_or_will(member: Member, qualification: Qualification, today: datetime.date) -> bool:
    """Does the member hold it today, or from a coming date (something to revoke)?"""
    return MemberQualification.objects.filter(
        Q(until__isnull=True) | Q(until__gte=today), Q(revoked_on__isnull=True) | Q(revoked_on__gt=today),
        member=member, qualification=qualification,
    ).exists()


@transaction.atomic
def member_qualification_revoke(
    *, member: Member, qualification: Qualification, today: datetime.date, reason: str = "", by=None,
) -> int:
    """The member no longer holds the qualification from today on (grants still running or to
    come are revoked, with who and why); returns how many grants were revoked."""
    reason = _clean_text(reason, "reason")
    member = Member.objects.select_for_update().get(pk=member.pk)
    rows = MemberQualification.objects.select_for_update().filter(
        Q(until__isnull=True) | Q(until__gte=today), Q(revoked_on__isnull=True) | Q(revoked_on__gt=today),
        member=member, qualification=qualification,
    )
    revoked = rows.update(revoked_on=today, revoke_reason=reason, revoked_by=_author(by), revoked_at=timezone.now())
    if not revoked:
        raise ValidationError({"qualification": [_("This member does not hold this qualification.")]})
    _log(member, "qualification_revoked", f"{qualification.code}" + (f": {reason}" if reason else ""), by)
    qualifications_changed.send(sender=MemberQualification, member=member, today=today)
    return revoked


@transaction.atomic
def member_qualifications_import(*, rows: list[dict], today: datetime.date, by=None, notify: bool = True) -> dict[str, int]:
    """Grants in bulk (a coop's `qualifications.csv`): each row {member, qualification, since,
    until?, note?} with model instances and dates (past and coming dates alike). All or nothing.

    A grant is already there when the member holds that qualification over exactly those days
    (a grant from `since` whose last day, counting a revocation, is `until`): it is left as it is,
    so importing twice, or importing an export into the coop it came from, creates nothing. A
    constant number of queries per 1,000 members: the grants known, the new grants, their log.
    `notify=False` leaves out `qualifications_changed` (members just created hold no registration
    yet: their seats are chosen when their slot is written)."""
    errors = {}
    for index, row in enumerate(rows):
        try:
            _check_dates(row.get("since"), row.get("until"))
            if not isinstance(row.get("member"), Member) or not isinstance(row.get("qualification"), Qualification):
                raise ValidationError({"member": [_("Give a member and a qualification.")]})
        except ValidationError as exc:
            errors[str(index)] = exc.messages
    if errors:
        raise ValidationError(errors)
    known = grants_known(row["member"].pk for row in rows)
    author = _author(by)
    grants, events, touched = [], [], {}
    for row in rows:
        member, qualification, since, until = row["member"], row["qualification"], row["since"], row.get("until")
        key = (member.pk, qualification.pk, since, until)
        if key in known:
            continue
        known.add(key)
        grants.append(MemberQualification(member=member, qualification=qualification, since=since, until=until,
                                          note=(row.get("note") or "")[:MAX_TEXT], granted_by=author))
        events.append(MemberEvent(member=member, kind="qualification_granted", detail=_grant_detail(qualification, since, until),
                                  author=author))
        touched[member.pk] = member
    MemberQualification.objects.bulk_create(grants, batch_size=1000)
    MemberEvent.objects.bulk_create(events, batch_size=1000)
    if notify:
        for member in touched.values():
            qualifications_changed.send(sender=MemberQualification, member=member, today=today)
    return {"created": len(grants), "unchanged": len(rows) - len(grants)}


@transaction.atomic
def member_welcomed_set(*, member: Member, day: datetime.date, by=None, reason: str = "") -> Member:
    """Record the member's welcome date (an import, or the office's decision); a later date never
    replaces an earlier one."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.welcomed_on is None or day < member.welcomed_on:
        member.welcomed_on = day
        member.save(update_fields=["welcomed_on", "updated_at"])
        _log(member, "welcomed", (reason or day.isoformat())[:255], by)
    return member


@transaction.atomic
def members_welcomed_import(*, rows: list[tuple[Member, datetime.date]]) -> int:
    """Welcome dates in bulk (a coop's `members.csv` column `welcomed_on`): each member keeps the
    earlier of their date and the one given. One UPDATE per 1,000 members; returns how many changed."""
    changed = []
    for member, day in rows:
        if not isinstance(day, datetime.date):
            raise ValidationError({"welcomed_on": [_("Give a date or nothing.")]})
        if member.welcomed_on is None or day < member.welcomed_on:
            member.welcomed_on = day
            changed.append(member)
    Member.objects.bulk_update(changed, ["welcomed_on"], batch_size=1000)
    return len(changed)


def interchange_grants():
    """Rows (member id, qualification code, since, last day or None) of every grant that was ever
    held, for a coop's `qualifications.csv`: a revoked grant ends the day before its revocation; one
    revoked before it started is left out. Importing them gives back the same days held."""
    rows = MemberQualification.objects.order_by("member_id", "qualification__position", "qualification__code", "since", "id")
    for member_id, code, since, until, revoked_on in rows.values_list(
        "member_id", "qualification__code", "since", "until", "revoked_on",
    ).iterator(chunk_size=5000):
        last = Held(since, until, revoked_on).last_day
        if last is not None and last < since:
            continue
        yield member_id, code, since, last


@transaction.atomic
def welcome_before_booking_set(*, on: bool, today: datetime.date, by=None) -> int:
    """Switch the parameter "welcome before booking". Switching it on counts every member who
    exists then as welcomed on their joining date (DOMAIN.md §9); returns how many were."""
    params = CoopParameters.objects.select_for_update().get_or_create(pk=1)[0]
    welcomed = 0
    if on and not params.welcome_before_booking:
        welcomed = Member.objects.filter(welcomed_on__isnull=True).update(welcomed_on=F("joined_on"))
    if params.welcome_before_booking != bool(on):
        params.welcome_before_booking = bool(on)
        params.save(update_fields=["welcome_before_booking"])
    return welcomed
