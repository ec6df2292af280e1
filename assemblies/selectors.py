"""Reads about assemblies shared by pages, the API, PDFs and exports: a constant number of queries
whatever the number of voters."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, FilteredRelation, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.barcodes import ASSOCIATE_PREFIX, normalize_card_code
from members.models import Member
from members.text import search_key

from . import rules as r
from .models import Assembly, AssemblyMail, AssemblyParameters, Proxy, Resolution, VotedMark, Voter

LIVE_PROXY = Q(revoked_at__isnull=True, voided_at__isnull=True)
SEARCH_LIMIT = 20


def current_rules() -> r.Rules:
    return AssemblyParameters.current().rules()


def eligible_members(rules: r.Rules | None = None) -> QuerySet[Member]:
    """Members who would vote if the list were frozen now, from their stored membership and status
    (the same answer as `rules.is_voter`, in SQL)."""
    rules = rules or current_rules()
    members = Member.objects.filter(membership__in=r.VOTING_MEMBERSHIPS)
    if rules.vote_requires_good_standing:
        members = members.exclude(status__in=r.NOT_IN_GOOD_STANDING).filter(blocked_reason="")
    return members


def voter_members(assembly: Assembly, rules: r.Rules | None = None) -> QuerySet[Member]:
    """The assembly's voters: the frozen list, or before the cut-off the members who would vote now."""
    if assembly.frozen:
        return Member.objects.filter(assembly_voters__assembly=assembly)
    return eligible_members(rules)


def is_voter(assembly: Assembly, member: Member, rules: r.Rules | None = None) -> bool:
    if assembly.frozen:
        return Voter.objects.filter(assembly=assembly, member=member).exists()
    rules = rules or current_rules()
    return r.is_voter(membership=member.membership, status=member.status, blocked=bool(member.blocked_reason),
                      good_standing_required=rules.vote_requires_good_standing)


@dataclass(frozen=True)
class Quorum:
    voters: int
    present: int
    represented: int
    required: Decimal
    reached: bool

    @property
    def counted(self) -> int:
        return self.present + self.represented

    @property
    def needed(self) -> int:
        """How many present or represented voters the quorum needs (rounded up)."""
        from math import ceil

        return ceil(self.required * self.voters)

    @property
    def required_percent(self) -> str:
        """The required share in percent: "20", "25", "33.33"."""
        return f"{(self.required * 100).normalize():f}"

    @property
    def percent(self) -> Decimal | None:
        if not self.voters:
            return None
        return (Decimal(self.counted) * 100 / self.voters).quantize(Decimal("0.1"))


def _represented(assembly_ref) -> Subquery:
    """Live proxies of the assembly whose holder is signed in (each carries one more vote)."""
    present_holders = Voter.objects.filter(assembly=OuterRef("assembly"), present_at__isnull=False).values("member_id")
    proxies = (
        Proxy.objects.filter(LIVE_PROXY, assembly=assembly_ref, holder_id__in=present_holders)
        .order_by().values("assembly").annotate(n=Count("id")).values("n")
    )
    return Coalesce(Subquery(proxies, output_field=IntegerField()), Value(0))


def _counted(queryset, field: str = "assembly"):
    return Coalesce(Subquery(queryset.order_by().values(field).annotate(n=Count("id")).values("n"), output_field=IntegerField()), Value(0))


def assemblies_with_counts() -> QuerySet[Assembly]:
    """Assemblies with `n_voters`, `n_present`, `n_represented` (frozen lists; 0 before the freeze)
    and `n_resolutions`: one query."""
    return Assembly.objects.annotate(
        n_voters=_counted(Voter.objects.filter(assembly=OuterRef("pk"))),
        n_present=_counted(Voter.objects.filter(assembly=OuterRef("pk"), present_at__isnull=False)),
        n_represented=_represented(OuterRef("pk")),
        n_resolutions=_counted(Resolution.objects.filter(assembly=OuterRef("pk"))),
    )


def quorum_of(assembly: Assembly, *, rules: r.Rules | None = None, prospective_voters: int | None = None) -> Quorum:
    """The live quorum. Uses the annotations of `assemblies_with_counts` when present; before the
    freeze, `voters` is the number of members who would vote now (`prospective_voters` when the
    caller counted them already)."""
    rules = rules or current_rules()
    if hasattr(assembly, "n_voters"):
        voters, present, represented = assembly.n_voters, assembly.n_present, assembly.n_represented
    else:
        facts = Voter.objects.filter(assembly=assembly).aggregate(
            voters=Count("id"), present=Count("id", filter=Q(present_at__isnull=False)),
        )
        voters, present = facts["voters"], facts["present"]
        represented = Proxy.objects.filter(
            LIVE_PROXY, assembly=assembly,
            holder_id__in=Voter.objects.filter(assembly=assembly, present_at__isnull=False).values("member_id"),
        ).count() if present else 0
    if not assembly.frozen:
        voters = prospective_voters if prospective_voters is not None else eligible_members(rules).count()
        present = represented = 0
    required = r.quorum_required(assembly.kind, assembly.convocation, rules)
    return Quorum(voters, present, represented, required,
                  r.quorum_reached(voters=voters, present=present, represented=represented, required=required))


def voter_rows(assembly: Assembly, rules: r.Rules | None = None) -> QuerySet[Member]:
    """The voters as members, by name, annotated with `present_at`, `proxies_carried` (live
    proxies they hold), `proxy_given_to` (the holder's member id) and the holder's name and
    number: one query."""
    carried = Proxy.objects.filter(LIVE_PROXY, assembly=assembly, holder=OuterRef("pk"))
    # Left joins on rows that are unique per member (one voter row per assembly, one live proxy
    # per giver): no duplicate rows, and one subquery per row instead of six.
    rows = (Member.objects if assembly.frozen else eligible_members(rules)).annotate(
        voter_row=FilteredRelation("assembly_voters", condition=Q(assembly_voters__assembly=assembly)),
        given=FilteredRelation("proxies_given", condition=Q(
            proxies_given__assembly=assembly, proxies_given__revoked_at__isnull=True, proxies_given__voided_at__isnull=True)),
    )
    if assembly.frozen:
        rows = rows.filter(voter_row__id__isnull=False)
    return rows.annotate(
        present_at=F("voter_row__present_at"),
        proxies_carried=_counted(carried, "holder"),
        proxy_given_to=F("given__holder_id"),
        proxy_holder_first_name=F("given__holder__first_name"),
        proxy_holder_last_name=F("given__holder__last_name"),
        proxy_holder_number=F("given__holder__member_number"),
    ).order_by("last_name", "first_name", "member_number")


def live_proxies(assembly: Assembly) -> QuerySet[Proxy]:
    return Proxy.objects.filter(LIVE_PROXY, assembly=assembly).select_related("giver", "holder").order_by(
        "holder__last_name", "holder__first_name", "giver__last_name", "giver__first_name")


def proxies_carried_by(assembly: Assembly, member: Member) -> list[Proxy]:
    return list(Proxy.objects.filter(LIVE_PROXY, assembly=assembly, holder=member).select_related("giver")
                .order_by("giver__last_name", "giver__first_name"))


def proxy_given_by(assembly: Assembly, member: Member) -> Proxy | None:
    return Proxy.objects.filter(LIVE_PROXY, assembly=assembly, giver=member).select_related("holder").first()


def find_member_by_code(code: str) -> tuple[Member | None, bool]:
    """A card barcode (13 digits, or 12 when the scanner drops the leading 0) or a member number
    -> (member, False). A household associate's card -> (None, True): associates do not vote."""
    code = (code or "").strip()
    card = normalize_card_code(code)
    if card is not None:
        if card.startswith(ASSOCIATE_PREFIX):
            return None, True
        return Member.objects.filter(card_barcode=card).first(), False
    if code.isdigit() and len(code) <= 8 and int(code) > 0:
        return Member.objects.filter(member_number=int(code)).first(), False
    return None, False


def voter_search(assembly: Assembly, text: str, rules: r.Rules | None = None, limit: int = SEARCH_LIMIT) -> list[Member]:
    """Voters whose name holds every word typed (accent-free), by name; at most `limit`."""
    words = search_key((text or "").replace("\x00", "")).split()  # PostgreSQL refuses NUL in a query
    if not words or sum(len(w) for w in words) < 2:
        return []
    condition = Q()
    for word in words:
        condition &= Q(search_name__contains=word)
    return list(voter_rows(assembly, rules).filter(condition)[:limit])


def open_resolution(assembly: Assembly) -> Resolution | None:
    return assembly.resolutions.filter(state=Resolution.State.OPEN).first()


def resolutions_by_assembly(assembly_ids) -> dict[int, list[Resolution]]:
    """The resolutions of these assemblies with `ballots_cast` (voted marks: how many votes were
    cast, never how), in order: one query."""
    by_assembly: dict[int, list[Resolution]] = {pk: [] for pk in assembly_ids}
    rows = (
        Resolution.objects.filter(assembly_id__in=list(by_assembly))
        .annotate(ballots_cast=_counted(VotedMark.objects.filter(resolution=OuterRef("pk")), "resolution"))
        .order_by("assembly_id", "position")
    )
    for resolution in rows:
        by_assembly[resolution.assembly_id].append(resolution)
    return by_assembly


def resolutions_with_turnout(assembly: Assembly) -> list[Resolution]:
    return resolutions_by_assembly([assembly.pk])[assembly.pk]


def quorums(assemblies: list[Assembly], rules: r.Rules | None = None) -> dict[int, Quorum]:
    """The live quorum of each assembly (annotated by `assemblies_with_counts`); the members who
    would vote now are counted once for all the lists not frozen yet."""
    rules = rules or current_rules()
    prospective = eligible_members(rules).count() if any(not a.frozen for a in assemblies) else 0
    return {a.pk: quorum_of(a, rules=rules, prospective_voters=prospective) for a in assemblies}


def voted_for(resolution: Resolution, member_ids) -> set[int]:
    """Which of these members have a vote cast on the resolution already."""
    return set(VotedMark.objects.filter(resolution=resolution, member_id__in=list(member_ids)).values_list("member_id", flat=True))


def member_assemblies(member: Member, *, today: datetime.date) -> list[dict]:
    """What /me/ shows: assemblies not closed and not past, where the member votes (or would vote
    now), with the proxy they gave and the ones they carry. A few queries."""
    rules = current_rules()
    upcoming = list(
        Assembly.objects.filter(closed_at__isnull=True, starts_at__date__gte=today - datetime.timedelta(days=1))
        .order_by("starts_at")
    )
    if not upcoming:
        return []
    eligible_now = r.is_voter(membership=member.membership, status=member.status, blocked=bool(member.blocked_reason),
                              good_standing_required=rules.vote_requires_good_standing)
    frozen_in = set(Voter.objects.filter(member=member, assembly__in=upcoming).values_list("assembly_id", "present_at"))
    frozen_ids = {assembly_id for assembly_id, _ in frozen_in}
    present = {assembly_id for assembly_id, at in frozen_in if at}
    given = {p.assembly_id: p for p in Proxy.objects.filter(LIVE_PROXY, giver=member, assembly__in=upcoming).select_related("holder")}
    carried: dict[int, list[Proxy]] = {}
    for proxy in Proxy.objects.filter(LIVE_PROXY, holder=member, assembly__in=upcoming).select_related("giver"):
        carried.setdefault(proxy.assembly_id, []).append(proxy)
    rows = []
    for assembly in upcoming:
        votes = assembly.pk in frozen_ids if assembly.frozen else eligible_now
        if not votes:
            continue
        rows.append({
            "assembly": assembly, "given": given.get(assembly.pk), "carried": carried.get(assembly.pk, []),
            "present": assembly.pk in present, "may_change_proxy": assembly.opened_at is None,
        })
    return rows


def member_export_section(member: Member) -> dict:
    """Everything the assemblies app keeps about a member, for their data export (DOMAIN.md §8):
    the voter lists they were on and their sign-in, proxies given and received, the resolutions
    on which a vote was cast in their name (never how: the ballot is secret and not linked to
    anyone), and the e-mails sent. JSON-serialisable."""

    def when(value):
        return timezone.localtime(value).isoformat() if value else None

    def person(other: Member) -> dict:
        return {"member_number": other.display_number, "name": other.full_name}

    def proxy_row(proxy: Proxy, other: Member, role: str) -> dict:
        return {
            "assembly_id": proxy.assembly_id, "assembly": proxy.assembly.title, role: person(other),
            "given_at": when(proxy.created_at), "revoked_at": when(proxy.revoked_at),
            "void_since": when(proxy.voided_at), "void_because": proxy.void_reason or None,
        }

    voters = Voter.objects.filter(member=member).select_related("assembly").order_by("assembly__starts_at", "id")
    given = Proxy.objects.filter(giver=member).select_related("assembly", "holder").order_by("created_at", "id")
    received = Proxy.objects.filter(holder=member).select_related("assembly", "giver").order_by("created_at", "id")
    marks = VotedMark.objects.filter(member=member).select_related("resolution__assembly").order_by(
        "resolution__assembly__starts_at", "resolution__position")
    mails = AssemblyMail.objects.filter(member=member).select_related("assembly").order_by("sent_at", "id")
    return {
        "assembly_attendance": [
            {"assembly_id": v.assembly_id, "assembly": v.assembly.title, "date": when(v.assembly.starts_at),
             "voter": True, "signed_in_at": when(v.present_at)}
            for v in voters
        ],
        "proxies_given": [proxy_row(p, p.holder, "holder") for p in given],
        "proxies_received": [proxy_row(p, p.giver, "giver") for p in received],
        "votes_cast": [
            {"assembly_id": m.resolution.assembly_id, "assembly": m.resolution.assembly.title,
             "resolution": m.resolution.position, "text": m.resolution.text}
            for m in marks
        ],
        "assembly_emails": [
            {"assembly_id": m.assembly_id, "assembly": m.assembly.title, "kind": m.kind, "sent_at": when(m.sent_at)}
            for m in mails
        ],
    }
