"""Demo assemblies for `seed_demo`: last year's ordinary assembly, held and closed (convened,
frozen, signed in, proxies, one vote from phones and two counted by the bureau, so the minutes
say something), and an extraordinary one to come, convened, with proxies given between other
members (the demo `member` can give theirs from /me/). Everything goes through the services, each step dated the day it would have
happened; no e-mail leaves. Idempotent: an assembly whose title exists is left alone."""
from __future__ import annotations

import datetime
import random
import zoneinfo

from django.conf import settings
from django.db import transaction

from members.models import Member

from . import notifications, selectors, services
from .models import Assembly

PAST_TITLE = "Assemblée générale ordinaire 2025"
UPCOMING_TITLE = "Assemblée générale extraordinaire : révision des statuts"
PLACE = "Salle Saint-Bruno, 9 rue Saint-Bruno, 75018 Paris"
PAST_AGENDA = """1. Rapport moral du comité de gouvernance
2. Approbation des comptes 2025
3. Affectation du résultat
4. Élection de trois membres du comité de gouvernance
5. Questions diverses"""
UPCOMING_AGENDA = """1. Révision des statuts : créneau de 3 heures toutes les 4 semaines inscrit dans les statuts
2. Révision des statuts : création d'un collège des salariés
3. Questions diverses"""
PAST_RESOLUTIONS = (
    ("Approuver les comptes de l'exercice 2025 tels que présentés par le trésorier.", "tally"),
    ("Affecter le résultat de l'exercice (4 812,37 €) en réserve impartageable.", "phones"),
    ("Élire au comité de gouvernance Hélène Dupré, Karim Benali et Noor Janssens.", "tally"),
)
UPCOMING_RESOLUTIONS = (
    "Inscrire dans les statuts l'obligation d'un créneau de 3 heures toutes les 4 semaines.",
    "Créer un collège des salariés disposant de 10 % des voix.",
)
SEED = 20250615


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE))


def _voters(assembly: Assembly) -> list[Member]:
    return list(selectors.voter_members(assembly).exclude(user__username="member").order_by("member_number"))


def _give_proxies(assembly: Assembly, holders: list[Member], givers: list[Member], count: int, *, today, by) -> int:
    """`count` proxies: each holder (in turn) takes two givers' proxies."""
    given = 0
    for index, giver in enumerate(givers[:count]):
        holder = holders[index // 2] if index // 2 < len(holders) else None
        if holder is None:
            break
        services.proxy_give(assembly=assembly, giver=giver, holder=holder, today=today, now=_at(today, 20), by=by)
        given += 1
    return given


def seed_past(*, today: datetime.date, by=None) -> dict[str, int]:
    """Held about two months ago and closed, with its minutes."""
    if Assembly.objects.filter(title=PAST_TITLE).exists():
        return {}
    rng = random.Random(SEED)
    held = today - datetime.timedelta(days=61)
    prepared = held - datetime.timedelta(days=30)
    assembly = services.assembly_create(title=PAST_TITLE, kind="ordinary", convocation=1, starts_at=_at(held, 18, 30),
                                        place=PLACE, agenda=PAST_AGENDA, today=prepared, by=by)
    services.assembly_convene(assembly=assembly, today=prepared + datetime.timedelta(days=2),
                              now=_at(prepared + datetime.timedelta(days=2), 10), by=by)
    services.voters_freeze(assembly=assembly, today=assembly.cutoff, now=_at(assembly.cutoff, 2, 30))
    assembly.refresh_from_db()
    voters = _voters(assembly)
    rng.shuffle(voters)
    attending = voters[: len(voters) * 3 // 10]
    proxies = _give_proxies(assembly, attending, voters[len(attending):], min(12, len(voters) // 10), today=assembly.cutoff, by=by)
    for minute, member in enumerate(attending):
        services.voter_sign_in(assembly=assembly, member=member, today=held, now=_at(held, 18, 10 + minute // 4), by=by)
    services.assembly_open(assembly=assembly, today=held, now=_at(held, 18, 30), by=by)  # already open unless nobody came
    assembly.refresh_from_db()
    present = selectors.quorum_of(assembly).counted
    for position, (text, how) in enumerate(PAST_RESOLUTIONS, start=1):
        resolution = services.resolution_add(assembly=assembly, text=text, by=by)
        moment = _at(held, 19, 10 * position)
        if how == "tally":
            against, abstain = rng.randint(0, present // 10), rng.randint(0, present // 12)
            services.resolution_tally(resolution=resolution, votes_for=present - against - abstain, votes_against=against,
                                      votes_abstain=abstain, now=moment, by=by)
            continue
        services.resolution_open(resolution=resolution, now=moment, by=by)
        for member in attending:
            ballots = [{"choice": rng.choices(("for", "against", "abstain"), (7, 2, 1))[0], "for_member": pk}
                       for pk in [member.pk, *(p.giver_id for p in selectors.proxies_carried_by(assembly, member))]]
            services.votes_cast(resolution=resolution, voter=member, ballots=ballots)
        services.resolution_close(resolution=resolution, now=moment + datetime.timedelta(minutes=8), by=by)
    services.assembly_close(assembly=assembly, now=_at(held, 21, 5), by=by)
    return {"past assembly voters": len(voters), "signed in": len(attending), "proxies": proxies}


def seed_upcoming(*, today: datetime.date, by=None) -> dict[str, int]:
    """In 25 days, convened today, with proxies."""
    if Assembly.objects.filter(title=UPCOMING_TITLE).exists():
        return {}
    assembly = services.assembly_create(
        title=UPCOMING_TITLE, kind="extraordinary", convocation=1, starts_at=_at(today + datetime.timedelta(days=25), 19),
        place=PLACE, agenda=UPCOMING_AGENDA, today=today, by=by,
    )
    services.assembly_convene(assembly=assembly, today=today, now=_at(today, 9), by=by)
    for text in UPCOMING_RESOLUTIONS:
        services.resolution_add(assembly=assembly, text=text, by=by)
    voters = _voters(assembly)  # the demo `member` is left free to give their proxy from /me/
    return {"upcoming assembly proxies": _give_proxies(assembly, voters[10:14], voters[20:40], 8, today=today, by=by)}


def seed(*, today: datetime.date, by=None) -> dict[str, int]:
    with notifications.muted(), transaction.atomic():
        return {**seed_past(today=today, by=by), **seed_upcoming(today=today, by=by)}
