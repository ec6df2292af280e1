"""`python manage.py seed_demo [--members N]`: a realistic demo coop (CONTRACT.md §2).

Deterministic and idempotent: member number i of the demo is planned from `random.Random` seeded
with its index, so a second run finds every demo e-mail already there and creates nothing, and
`--members 400` after 300 adds the 100 missing members. Every write goes through the services,
with the date it would have happened on (`today=` the day of the payment, the shift, ...).

It lives in the composition root because it writes both members and shifts (`members` never
imports `shifts`). The command is a list of small steps, each idempotent on its own:
`seed_accounts`, `seed_templates` (with their qualified seats, and welcome sessions),
`seed_member_account`, `seed_members` (a member's qualifications are granted when they join, then a
standard member gets their regular slot, on a seat they qualify for), `seed_shifts` (8 weeks of
past shifts, 90 days ahead), `seed_history` (bookings, attendance and the daily close of the past 8
weeks, then today's decisions: leaves, exemptions, extensions, a block), `seed_welcome` (welcome
dates, newcomers booked on the next welcome session) and the daily `statuses_update`.

Leaders are fewer than the shifts that need one, so a few shifts of the next days are flagged
"no leader" on the calendar and the dashboard.

Each working member follows a *work scenario* that leads them to one working status; the first
members of the plan take one scenario each, so a small demo (the tests use 30) shows them all.
"""
from __future__ import annotations

import datetime
import functools
import random
import re
from collections import Counter
from dataclasses import dataclass
from itertools import groupby

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from assemblies import demo as assembly_demo
from coopmarket.errors import RuleViolation
from coopmarket.roles import CASHIERS, COORDINATORS, SUPPLY
from inventory import demo as inventory_demo
from members import membership as ms
from members import qualifications as quals
from members import services
from members.models import Member, Payment, Qualification, ShareClass
from members.text import search_key
from shifts import notifications
from shifts import services as shift_services
from shifts.models import Registration, Shift, ShiftTemplate, SlotAssignment, TemplateRequirement

SEED = 20260105
DEMO_DOMAIN = "demo.coopmarket.test"
DEMO_PASSWORD = "demo"  # noqa: S105 (demo accounts only)
MEMBER_ACCOUNT_EMAIL = f"member@{DEMO_DOMAIN}"
CHUNK = 100

# username -> (group or None, is_staff, is_superuser, description)
ACCOUNTS = {
    "admin": (None, True, True, "superuser (staff): everything, /admin/"),
    "coordinator": (COORDINATORS, True, False, "coordinators (staff: members office, /admin/)"),
    "cashier": (CASHIERS, False, False, "cashiers (till device account)"),
    "supply": (SUPPLY, False, False, "supply (suppliers, products, stock)"),
    "member": (None, False, False, "a cooperator (active, shares paid, a regular slot, up to date)"),
}

FIRST_NAMES = (
    "Hélène", "Loïc", "Benoît", "Chloé", "Léa", "Zoé", "Inès", "Maëlle", "Noémie", "Anaïs", "Gaëlle",
    "Joël", "Raphaël", "Mathéo", "Théo", "Clément", "Jérôme", "Stéphane", "Frédéric", "Cédric",
    "Aurélie", "Émilie", "Céline", "Sébastien", "Amélie", "Françoise", "Geneviève", "Thérèse", "Agnès",
    "Ophélie", "Éloïse", "Camille", "Julien", "Nicolas", "Sophie", "Marie", "Pierre", "Louis", "Jules",
    "Hugo", "Lucas", "Manon", "Lucie", "Sarah", "Nathalie", "Isabelle", "Philippe", "Thomas", "Antoine",
    "Alexandre", "Karim", "Yasmine", "Fatou", "Mamadou", "Nadia", "Mehdi", "Samira", "Youssef", "Aïcha",
    "Baptiste", "Maxime", "Quentin", "Margaux", "Pauline", "Juliette", "Capucine", "Bérénice",
    "Séverine", "Gaëtan", "Hervé", "Rémi", "Grégoire", "Valérie", "Sylvie", "Chantal", "Denis",
    "Fabien", "Anne-Sophie", "Jean-Luc", "Marie-Claire", "Wout", "Maarten", "Annelies", "Griet",
    "Pieter", "Els", "Noor", "Thibault", "Arnaud", "Océane", "Léon", "Adèle", "Anaëlle", "Jérémy",
)
LAST_NAMES = (
    "Dupré", "Lefèvre", "Dupont", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
    "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Perrin", "Robin", "Clément", "Morin", "Henry",
    "Roussel", "Mathieu", "Masson", "Marchand", "Duval", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Brunet", "Gaillard", "Barbier", "Arnaud", "Gérard",
    "Roche", "Renard", "Schmitt", "Leroux", "Colin", "Vidal", "Caron", "Picard", "Fabre", "Aubert",
    "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Bourgeois", "Benoît", "Leclerc", "Rolland",
    "Leclercq", "Lecomte", "Lopez", "Dupuy", "Hubert", "Berger", "Carpentier", "Dupuis", "Moulin",
    "Deschamps", "Huet", "Fleury", "Carré", "Ménard", "Maillard", "Le Gall", "Léger", "Prévost",
    "Le Roux", "Rémy", "Le Goff", "Lévêque", "Barré", "Lemaître", "Bénard", "Maréchal", "Étienne",
    "Barthélemy", "Delaunay", "Nguyen", "Diallo", "Traoré", "Benali", "Haddad", "Bensaïd", "Da Silva",
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
    "De Smet", "Lambert", "Van den Berghe", "D'Hondt", "Vandenbroucke", "Verstraete", "Deprez",
)
# (street, postal code, city)
STREETS = (
    ("rue des Poissonniers", "75018", "Paris"), ("rue Myrha", "75018", "Paris"),
    ("rue de Clignancourt", "75018", "Paris"), ("rue Marcadet", "75018", "Paris"),
    ("rue Ordener", "75018", "Paris"), ("rue Custine", "75018", "Paris"),
    ("rue Championnet", "75018", "Paris"), ("boulevard Barbès", "75018", "Paris"),
    ("rue Lepic", "75018", "Paris"), ("rue du Faubourg-Saint-Denis", "75010", "Paris"),
    ("rue La Fayette", "75010", "Paris"), ("rue de Lancry", "75010", "Paris"),
    ("rue de Belleville", "75019", "Paris"), ("avenue Jean-Jaurès", "75019", "Paris"),
    ("rue de Crimée", "75019", "Paris"), ("rue de Ménilmontant", "75020", "Paris"),
    ("rue des Pyrénées", "75020", "Paris"), ("rue Oberkampf", "75011", "Paris"),
    ("rue de la Roquette", "75011", "Paris"), ("rue Saint-Maur", "75011", "Paris"),
    ("rue de Charonne", "75011", "Paris"), ("rue des Martyrs", "75009", "Paris"),
    ("rue Mouffetard", "75005", "Paris"), ("rue Daguerre", "75014", "Paris"),
    ("rue de Vaugirard", "75015", "Paris"), ("rue de Tolbiac", "75013", "Paris"),
    ("avenue d'Italie", "75013", "Paris"), ("rue du Château-Landon", "75010", "Paris"),
    ("rue des Rosiers", "93400", "Saint-Ouen-sur-Seine"), ("rue de Paris", "93100", "Montreuil"),
    ("rue de la République", "93200", "Saint-Denis"), ("avenue Jean-Lolive", "93500", "Pantin"),
    ("rue du Moutier", "93300", "Aubervilliers"),
)
LEAVE_REASONS = (
    "Déménagement hors d'Île-de-France.",
    "Manque de temps pour les créneaux.",
    "Départ à l'étranger.",
    "Ne fait plus ses courses à la coop.",
    "Raisons personnelles.",
)
METHODS = (Payment.Method.CASH, Payment.Method.CHEQUE, Payment.Method.TRANSFER, Payment.Method.CARD)

# Share situations and their weights. The first members of the demo take one of each, so that even
# a small demo (the tests use 30) shows every membership state.
PAID, EXTRA, INSTALMENTS_OK, INSTALMENTS_LATE, SUPPORTING, NO_SHARES, LEFT = (
    "paid", "extra", "instalments_ok", "instalments_late", "supporting", "no_shares", "left",
)
SITUATION_WEIGHTS = {PAID: 64, EXTRA: 5, INSTALMENTS_OK: 9, INSTALMENTS_LATE: 6, SUPPORTING: 4, NO_SHARES: 4, LEFT: 8}
FORCED = {
    1: PAID, 2: INSTALMENTS_LATE, 3: SUPPORTING, 4: NO_SHARES, 5: LEFT, 6: INSTALMENTS_OK, 7: EXTRA, 8: PAID,
    **{index: PAID for index in range(9, 17)},
}
FORCED_LOW_INCOME = {8}

# The shop opens Tuesday to Saturday: (name, start, end, capacity) of each day's shifts, the same
# in weeks A, B, C and D.
_WEEKDAY_SHIFTS = (
    ("Réception marchandises", datetime.time(8, 30), datetime.time(11, 30), 6),
    ("Mise en rayon", datetime.time(13, 45), datetime.time(16, 45), 7),
    ("Caisse", datetime.time(16, 45), datetime.time(19, 45), 8),
)
_SATURDAY_SHIFTS = (
    ("Réception marchandises", datetime.time(8, 30), datetime.time(11, 30), 6),
    ("Caisse", datetime.time(11, 30), datetime.time(14, 30), 8),
    ("Mise en rayon", datetime.time(13, 45), datetime.time(16, 45), 7),
    ("Caisse et fermeture", datetime.time(16, 45), datetime.time(19, 45), 8),
)
SHOP_DAYS = {1: _WEEKDAY_SHIFTS, 2: _WEEKDAY_SHIFTS, 3: _WEEKDAY_SHIFTS, 4: _WEEKDAY_SHIFTS, 5: _SATURDAY_SHIFTS}
# Qualified seats of each kind of shift (DOMAIN.md §9); the other seats are open.
REQUIREMENTS = {
    "Caisse": (("leader", 1), ("cashier", 2)),
    "Caisse et fermeture": (("leader", 1), ("cashier", 2)),
    "Réception marchandises": (("reception", 1),),
}
# Welcome sessions: Saturday mornings of weeks A and C.
WELCOME_SESSION = ("Réunion d'accueil", 5, datetime.time(10, 0), datetime.time(11, 30), 12, "AC")
# The chance a member holding cooperator shares was trained for each qualification.
QUALIFICATION_ODDS = {"leader": 0.10, "cashier": 0.18, "reception": 0.08}
FORCED_QUALIFICATIONS = {1: ("leader",), 13: ("leader", "cashier"), 16: ("cashier",)}
HISTORY_DAYS = 56  # two cycles of past shifts: every template has exactly two past dates
AHEAD_DAYS = 90
SLOT_RESERVE = 2  # seats of each template kept free of slot holders, for FTOP members and make-ups

# Work scenarios: what a working member did over the past 8 weeks, and the status it leads to.
UP_TO_DATE, BANKED, PLANNED_LEAVE = "up_to_date", "banked", "planned_leave"
ALERT, SUSPENDED, DELAY, UNSUBSCRIBED = "alert", "suspended", "delay", "unsubscribed"
ON_LEAVE, EXEMPTED, BLOCKED = "on_leave", "exempted", "blocked"
FTOP_CREDIT, FTOP_OK, FTOP_DEBT, FTOP_DELAY, FTOP_SUSPENDED = "ftop_credit", "ftop_ok", "ftop_debt", "ftop_delay", "ftop_suspended"
STANDARD_WORK_WEIGHTS = {
    UP_TO_DATE: 60, BANKED: 10, PLANNED_LEAVE: 3, ALERT: 8, SUSPENDED: 3, DELAY: 2, UNSUBSCRIBED: 4,
    ON_LEAVE: 4, EXEMPTED: 4, BLOCKED: 2,
}
FTOP_WORK_WEIGHTS = {FTOP_CREDIT: 35, FTOP_OK: 28, FTOP_DEBT: 14, FTOP_DELAY: 4, FTOP_SUSPENDED: 7, ON_LEAVE: 5, EXEMPTED: 5, BLOCKED: 2}
# (shift type, scenario) of the first members of the plan: every working status, FTOP credit and debt.
FORCED_WORK = {
    1: (Member.ShiftType.STANDARD, BANKED),
    6: (Member.ShiftType.STANDARD, ALERT),
    7: (Member.ShiftType.STANDARD, SUSPENDED),
    8: (Member.ShiftType.STANDARD, DELAY),
    9: (Member.ShiftType.STANDARD, ON_LEAVE),
    10: (Member.ShiftType.STANDARD, EXEMPTED),
    11: (Member.ShiftType.STANDARD, UNSUBSCRIBED),
    12: (Member.ShiftType.STANDARD, BLOCKED),
    13: (Member.ShiftType.FTOP, FTOP_CREDIT),
    14: (Member.ShiftType.FTOP, FTOP_DEBT),
    15: (Member.ShiftType.FTOP, FTOP_DELAY),
    16: (Member.ShiftType.FTOP, FTOP_OK),
}
FORCED_WORK_MIN_DAYS = 120  # forced members joined long enough ago to have two past regular shifts
SHIFT_LEAVE_REASONS = ("Congé parental.", "Voyage de plusieurs mois.", "Séjour à l'étranger pour le travail.", "Convalescence.")
EXEMPTION_REASONS = ("Raison médicale (certificat fourni).", "Plus de 65 ans.", "Parent d'un enfant de moins de 3 ans.", "Handicap.")
EXTENSION_REASONS = ("Période de travail chargée, rattrapages prévus.", "Problème familial, voit avec le bureau des membres.")
BLOCK_REASONS = ("Comportement irrespectueux envers un coopérateur en caisse : en attente de la commission.",)


@dataclass(frozen=True)
class MemberPlan:
    """Everything about demo member `index`, decided before anything is written."""

    index: int
    first_name: str
    last_name: str
    email: str
    phone: str
    address: str
    postal_code: str
    city: str
    birth_date: datetime.date
    shift_type: str
    low_income: bool
    joined_on: datetime.date
    situation: str
    share_class: str | None = None  # "A" or "B"
    quantity: int = 0
    method: str = Payment.Method.CASH
    paid_on: datetime.date | None = None
    instalments: int = 1
    instalment_payments: tuple[tuple[int, datetime.date], ...] = ()  # (schedule index, paid on)
    extra: tuple[int, datetime.date] | None = None  # (quantity, paid on)
    associate: tuple[str, str] | None = None
    left_on: datetime.date | None = None
    leave_reason: str = ""
    work: str = UP_TO_DATE  # the work scenario (working members only)
    # (code, held from, expires on or None): granted when the member joins, before their slot.
    qualifications: tuple[tuple[str, datetime.date, datetime.date | None], ...] = ()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", search_key(text)).strip("-")


def demo_email(index: int, first_name: str, last_name: str) -> str:
    return f"{_slug(first_name)}.{_slug(last_name)}.{index}@{DEMO_DOMAIN}"


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.05:  # a Belgian mobile
        return f"+32 4{rng.randint(70, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    digits = [rng.randint(0, 99) for _ in range(4)]
    return f"0{rng.choice('67')} " + " ".join(f"{d:02d}" for d in digits)


def _reference(rng: random.Random, method: str) -> str:
    if method == Payment.Method.CHEQUE:
        return f"Chèque n° {rng.randint(1000000, 9999999)}"
    if method == Payment.Method.TRANSFER:
        return f"VIR-{rng.randint(100000, 999999)}"
    return ""


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def work_scenario(index: int, shift_type: str) -> str:
    """The work scenario of demo member `index`: forced for the first members, else drawn."""
    if index in FORCED_WORK:
        return FORCED_WORK[index][1]
    weights = FTOP_WORK_WEIGHTS if shift_type == Member.ShiftType.FTOP else STANDARD_WORK_WEIGHTS
    return random.Random(f"{SEED}:{index}:work").choices(list(weights), weights=list(weights.values()))[0]


def member_plan(index: int, *, today: datetime.date) -> MemberPlan:
    """The demo member number `index` (1-based), as a pure function of the index and today."""
    rng = random.Random(f"{SEED}:{index}")
    first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    street, postal_code, city = rng.choice(STREETS)
    situation = FORCED.get(index) or rng.choices(list(SITUATION_WEIGHTS), weights=list(SITUATION_WEIGHTS.values()))[0]
    low_income = index in FORCED_LOW_INCOME or (index not in FORCED and rng.random() < 0.10)
    shift_type = Member.ShiftType.FTOP if rng.random() < 0.30 else Member.ShiftType.STANDARD
    days_ago = {
        NO_SHARES: (0, 40),
        INSTALMENTS_LATE: (95, 500),
        INSTALMENTS_OK: (15, 280),
        LEFT: (200, 730),
    }.get(situation, (0, 730))
    if index in FORCED_WORK:
        shift_type = FORCED_WORK[index][0]
        days_ago = (max(days_ago[0], FORCED_WORK_MIN_DAYS), max(days_ago[1], FORCED_WORK_MIN_DAYS))
    joined_on = today - _days(rng.randint(*days_ago))
    method = rng.choices(METHODS, weights=(25, 25, 35, 15))[0]
    plan = dict(
        index=index,
        first_name=first_name,
        last_name=last_name,
        email=demo_email(index, first_name, last_name),
        phone=_phone(rng),
        address=f"{rng.randint(1, 180)} {street}",
        postal_code=postal_code,
        city=city,
        birth_date=today - _days(rng.randint(19 * 365, 78 * 365)),
        shift_type=shift_type,
        low_income=low_income,
        joined_on=joined_on,
        situation=situation,
        method=method,
        work=work_scenario(index, shift_type),
    )
    if situation == NO_SHARES:
        return MemberPlan(**plan)

    paid_on = min(today, joined_on + _days(rng.choice((0, 0, 0, 1, 2, 3, 7, 14))))
    plan.update(paid_on=paid_on, share_class="A", quantity=1 if low_income and rng.random() < 0.8 else 10)
    if situation == SUPPORTING:
        plan.update(share_class="B", quantity=rng.choice((1, 1, 2, 5, 10)))
    elif situation in (INSTALMENTS_OK, INSTALMENTS_LATE):
        instalments = rng.randint(3, 10)
        dues = [ms.add_months(paid_on, i) for i in range(instalments)]  # the monthly schedule
        if situation == INSTALMENTS_OK:  # every instalment due so far paid within 10 days
            payments = [(i, min(today, due + _days(rng.randint(0, 10)))) for i, due in enumerate(dues) if i and due <= today]
        else:  # some instalments paid, then one more than 30 days overdue
            overdue = [i for i, due in enumerate(dues) if i and (today - due).days > 30]
            paid_count = rng.randint(0, len(overdue) - 1)
            payments = [(i, dues[i] + _days(rng.randint(0, 10))) for i in overdue[:paid_count]]
        plan.update(instalments=instalments, instalment_payments=tuple(payments))
    elif situation == EXTRA:
        plan.update(extra=(rng.randint(1, 10), paid_on + _days(rng.randint(0, (today - paid_on).days))))
    elif situation == LEFT:
        left_on = paid_on + _days(rng.randint(60, max(60, (today - paid_on).days)))
        plan.update(left_on=min(today, left_on), leave_reason=rng.choice(LEAVE_REASONS))
    if rng.random() < 0.15:
        plan.update(associate=(rng.choice(FIRST_NAMES), last_name if rng.random() < 0.6 else rng.choice(LAST_NAMES)))
    if plan.get("share_class") == "A":
        plan.update(qualifications=qualification_plan(index, joined_on=joined_on, paid_on=paid_on, today=today))
    return MemberPlan(**plan)


def qualification_plan(index: int, *, joined_on: datetime.date, paid_on: datetime.date, today: datetime.date) -> tuple:
    """Which trainings demo member `index` had (its own random stream: the rest of the plan does
    not change): held from a date on or before their shares were paid; some cashier trainings
    expire soon (a refresher is due), a few have expired."""
    rng = random.Random(f"{SEED}:{index}:qualifications")
    codes = [code for code, odds in QUALIFICATION_ODDS.items() if rng.random() < odds]
    codes = list(FORCED_QUALIFICATIONS.get(index, codes))
    granted = []
    for code in codes:
        since = min(paid_on, joined_on + _days(rng.randint(0, 20)))
        until = None
        if code == "cashier":
            draw = rng.random()
            if draw < 0.25 or index == 16:
                until = today + _days(rng.randint(10, 120))
            elif draw < 0.32 and (today - since).days > 30:
                until = today - _days(rng.randint(3, min(30, (today - since).days - 1)))
        granted.append((code, since, until))
    return tuple(granted)


class SlotPicker:
    """Chooses demo members' regular slots: a template with room, keeping SLOT_RESERVE seats of each
    free for FTOP members and make-ups (then any room left). Deterministic for a given state.
    `assign` gives the slot through the service, trying the next template when the rules refuse
    one (only qualified seats the member does not hold left)."""

    def __init__(self):
        self.templates = list(
            ShiftTemplate.objects.filter(active=True, welcome=False)
            .annotate(holders=Count("slots", filter=Q(slots__end_date__isnull=True)))
            .order_by("week", "weekday", "start_time", "pk")
        )
        self.seats: dict[int, dict[int, int]] = {}  # template -> qualification -> qualified seats left for slot holders
        for template_id, qualification_id, seats in TemplateRequirement.objects.values_list("template_id", "qualification_id", "seats"):
            self.seats.setdefault(template_id, {})[qualification_id] = seats
        for template_id, seat_id in SlotAssignment.objects.filter(end_date__isnull=True, seat__isnull=False).values_list("template_id", "seat_id"):
            if seat_id in self.seats.get(template_id, {}):
                self.seats[template_id][seat_id] -= 1

    def assign(self, key, member: Member, *, start_date: datetime.date, today: datetime.date, by=None):
        """The member's slot: trained members go first to a template whose seat of their training is free."""
        rng = random.Random(f"{SEED}:{key}:slot")
        held = quals.held_ids(member, max(start_date, today))
        for reserve in (SLOT_RESERVE, 0):
            room = [t for t in self.templates if t.holders < t.capacity - reserve]
            if not room:
                continue
            first = rng.choice(room)
            ordered = [first, *(t for t in room if t is not first)]
            needing = [t for t in ordered if any(self.seats.get(t.pk, {}).get(q, 0) > 0 for q in held)]
            if needing:
                first = needing[0] if len(needing) == 1 else rng.choice(needing)
                ordered = [first, *(t for t in ordered if t is not first)]
            for template in ordered:
                try:
                    with transaction.atomic():
                        slot = shift_services.slot_assign(template=template, member=member, start_date=start_date, today=today, by=by)
                except RuleViolation:
                    continue
                template.holders += 1
                if slot.seat_id in self.seats.get(template.pk, {}):
                    self.seats[template.pk][slot.seat_id] -= 1
                return slot
        return None

    def pick(self, key) -> ShiftTemplate | None:
        rng = random.Random(f"{SEED}:{key}:slot")
        for reserve in (SLOT_RESERVE, 0):
            room = [t for t in self.templates if t.holders < t.capacity - reserve]
            if room:
                template = rng.choice(room)
                template.holders += 1
                return template
        return None


def member_from_plan(
    plan: MemberPlan, *, share_classes: dict[str, ShareClass], today: datetime.date, by=None, slots: SlotPicker | None = None,
) -> Member:
    """Register one planned member through the services, each step on the day it happened: the
    regular slot (a standard member with cooperator shares), shares, instalments, associate, leaving."""
    member = services.member_create(
        first_name=plan.first_name, last_name=plan.last_name, email=plan.email, joined_on=plan.joined_on,
        shift_type=plan.shift_type, low_income=plan.low_income, phone=plan.phone, address=plan.address,
        postal_code=plan.postal_code, city=plan.city, birth_date=plan.birth_date, by=by,
    )
    if plan.share_class is None:
        return member
    if plan.qualifications:
        codes = {q.code: q for q in Qualification.objects.filter(code__in=[code for code, *_rest in plan.qualifications])}
        for code, since, until in plan.qualifications:
            if code in codes:
                quals.member_qualification_grant(member=member, qualification=codes[code], since=since, until=until,
                                                 today=plan.paid_on, by=by, note="Formation")
    if slots is not None and plan.share_class == "A" and plan.shift_type == Member.ShiftType.STANDARD:
        # Given when they join, so they never go without one.
        slots.assign(plan.index, member, start_date=plan.paid_on, today=plan.paid_on, by=by)
    rng = random.Random(f"{SEED}:{plan.index}:refs")
    subscription = services.share_subscribe(
        member=member, share_class=share_classes[plan.share_class], quantity=plan.quantity,
        payment_method=plan.method, today=plan.paid_on, paid_on=plan.paid_on, instalments=plan.instalments,
        reference=_reference(rng, plan.method), by=by,
    )
    schedule = subscription.schedule
    for i, paid_on in plan.instalment_payments:
        services.payment_record(
            subscription=subscription, amount=schedule[i][1], method=plan.method, today=paid_on,
            paid_on=paid_on, reference=_reference(rng, plan.method), by=by,
        )
    if plan.extra:
        quantity, paid_on = plan.extra
        services.share_subscribe(
            member=member, share_class=share_classes["A"], quantity=quantity, payment_method=plan.method,
            today=paid_on, paid_on=paid_on, reference=_reference(rng, plan.method), by=by,
        )
    if plan.associate:
        services.associate_add(member=member, first_name=plan.associate[0], last_name=plan.associate[1], by=by)
    if plan.left_on:
        services.member_leave(member=member, reason=plan.leave_reason, today=plan.left_on, by=by)
    # Memberships as of today (an instalment that became overdue since) come with statuses_update.
    return member


@functools.cache
def _demo_password_hash() -> str:
    """`demo`, hashed once per run (PBKDF2 is slow on purpose)."""
    return make_password(DEMO_PASSWORD)


def seed_accounts(*, log) -> dict:
    """The demo accounts (CONTRACT.md §2), each with password `demo`; existing ones are left alone."""
    users = get_user_model().objects
    existing = {u.username: u for u in users.filter(username__in=ACCOUNTS)}
    accounts = {}
    for username, (group, is_staff, is_superuser, _description) in ACCOUNTS.items():
        if username == "member":  # a member's login: made by seed_member_account
            continue
        user = existing.get(username)
        if user is None:
            user = users.create(
                username=username, email=f"{username}@{DEMO_DOMAIN}", password=_demo_password_hash(),
                is_staff=is_staff, is_superuser=is_superuser, first_name=username.capitalize(),
            )
            if group:
                user.groups.add(Group.objects.get(name=group))
            log(f"  created account {username}")
        accounts[username] = user
    if len(existing) == len(ACCOUNTS):
        log("  demo accounts already there")
    return accounts


def seed_member_account(*, today: datetime.date, by=None, log) -> Member:
    """The `member` account: a cooperator with 10 A shares paid in full and a regular slot, who can
    sign in and shop (their history is spotless: see seed_history)."""
    member = Member.objects.filter(email__iexact=MEMBER_ACCOUNT_EMAIL).first()
    if member is None:
        member = services.member_create(
            first_name="Camille", last_name="Lefèvre", email=MEMBER_ACCOUNT_EMAIL, joined_on=today - _days(730),
            phone="06 12 34 56 78", address="42 rue des Poissonniers", postal_code="75018", city="Paris", by=by,
        )
        paid_on = today - _days(728)
        leader = Qualification.objects.filter(code="leader").first()
        if leader is not None:  # a trained shift leader, who shows "what I am trained for" on /me/
            quals.member_qualification_grant(member=member, qualification=leader, since=paid_on, today=paid_on, by=by)
        cashier = Qualification.objects.filter(code="cashier").first()
        if cashier is not None:  # a cashier training with a refresher due in two months
            quals.member_qualification_grant(member=member, qualification=cashier, since=today - _days(300),
                                             until=today + _days(60), today=paid_on, by=by)
        SlotPicker().assign("member", member, start_date=paid_on, today=paid_on, by=by)
        services.share_subscribe(
            member=member, share_class=ShareClass.objects.get(code="A"), quantity=10,
            payment_method=Payment.Method.TRANSFER, today=paid_on, paid_on=paid_on, by=by,
        )
        log(f"  created member {member.display_number} {member.full_name} for the `member` account")
    users = get_user_model().objects
    if not users.filter(username="member").exists():
        user = member.user if member.user_id else services.member_login_create(member=member, by=by)
        user.username = "member"
        user.password = _demo_password_hash()
        user.save(update_fields=["username", "password"])
        log("  created account member")
    return member


def seed_members(*, count: int, today: datetime.date, by=None, log) -> int:
    """Demo members 1..count that do not exist yet (by e-mail), in join-date order; returns how many."""
    existing = {
        email.lower() for email in Member.objects.filter(email__iendswith=f"@{DEMO_DOMAIN}").values_list("email", flat=True)
    }
    plans = [plan for plan in (member_plan(i, today=today) for i in range(1, count + 1)) if plan.email not in existing]
    plans.sort(key=lambda plan: (plan.joined_on, plan.index))
    share_classes = {sc.code: sc for sc in ShareClass.objects.all()}
    slots = SlotPicker()
    for start in range(0, len(plans), CHUNK):
        with transaction.atomic():
            for plan in plans[start : start + CHUNK]:
                member_from_plan(plan, share_classes=share_classes, today=today, by=by, slots=slots)
    log(f"  created {len(plans)} demo members ({count - len(plans)} were already there)")
    return len(plans)


def seed_templates(*, now: datetime.datetime | None = None, log) -> int:
    """The ABCD cycle's templates: the shop's shifts, Tuesday to Saturday, in each of the 4 weeks,
    with their qualified seats (tills need a shift leader and cashiers, reception someone trained),
    and a welcome session on Saturday mornings of weeks A and C."""
    now = now or timezone.now()
    existing = set(ShiftTemplate.objects.values_list("week", "weekday", "start_time", "name"))
    created = 0
    for week in "ABCD":
        for weekday, day_shifts in SHOP_DAYS.items():
            for name, start, end, capacity in day_shifts:
                if (week, weekday, start, name) in existing:
                    continue
                shift_services.template_create(
                    name=name, week=week, weekday=weekday, start_time=start, end_time=end, capacity=capacity
                )
                created += 1
    name, weekday, start, end, capacity, weeks = WELCOME_SESSION
    for week in weeks:
        if (week, weekday, start, name) not in existing:
            template = shift_services.template_create(name=name, week=week, weekday=weekday, start_time=start, end_time=end, capacity=capacity)
            shift_services.template_update(template=template, now=now, welcome=True)
            created += 1
    qualifications = {q.code: q for q in Qualification.objects.all()}
    seated = 0
    for template in ShiftTemplate.objects.filter(name__in=list(REQUIREMENTS), requirements__isnull=True):
        wanted = [(qualifications[code], n) for code, n in REQUIREMENTS[template.name] if code in qualifications]
        if wanted:
            shift_services.template_requirements_set(template=template, requirements=wanted, now=now)
            seated += 1
    log(f"  created {created} shift templates ({len(existing)} were already there); qualified seats set on {seated}")
    return created


def _working_members():
    """Members with a working status (cooperator shares, membership active or unpaid)."""
    members = Member.objects.filter(membership__in=[Member.Membership.ACTIVE, Member.Membership.UNPAID]).order_by("member_number")
    return [member for member in members if shift_services.works(member)]


def seed_shifts(*, today: datetime.date, by=None, log) -> dict:
    """Regular slots for demo standard members who have never had one (a demo seeded before the
    shift engine), then the shifts of the past 8 weeks and the next 90 days with their regular
    registrations (idempotent: shifts_generate keeps what exists)."""
    slots = SlotPicker()
    assigned = 0
    for member in _working_members():
        if (
            member.email.lower().endswith(f"@{DEMO_DOMAIN}") and member.shift_type == Member.ShiftType.STANDARD
            and not member.slots.exists()
        ):
            start = member.work_start_date or member.joined_on
            if slots.assign(f"m{member.member_number}", member, start_date=start, today=today, by=by) is not None:
                assigned += 1
    counts = shift_services.shifts_generate(start=today - _days(HISTORY_DAYS), end=today + _days(AHEAD_DAYS))
    log(f"  {assigned} regular slots assigned; generated {counts['shifts']} shifts and {counts['registrations']} regular registrations")
    return {"slots": assigned, **counts}


def _demo_index(email: str) -> int | None:
    match = re.search(r"\.(\d+)@", email)
    return int(match.group(1)) if match else None


def missed_regular_dates(work: str, dates: list[datetime.date], *, today: datetime.date) -> set[datetime.date]:
    """Which of a standard member's past regular shifts (sorted dates) they missed, by scenario.

    A miss opens an alert episode whose deadline is 28 days later: the last shift (always in the
    last 28 days) for `alert`; the one before (28 to 56 days ago) for `suspended` and `delay`, the
    last one being attended; both for `unsubscribed` (two consecutive misses and a debt).
    """
    if work == ALERT and dates and (today - dates[-1]).days < 28:
        return {dates[-1]}
    if work in (SUSPENDED, DELAY):
        if len(dates) >= 2:
            return {dates[-2]}
        if dates and (today - dates[0]).days >= 28:
            return {dates[0]}
    if work == UNSUBSCRIBED and len(dates) >= 2:
        return {dates[-2], dates[-1]}
    return set()


def booking_requests(work: str, shift_type: str, *, today: datetime.date, regular_missed: bool) -> list[tuple[int, int, bool | None]]:
    """One-off bookings of a scenario: (first day, last day) relative to today, and whether the
    member came (None: a future booking)."""
    whole, recent, old = (-HISTORY_DAYS, -1), (-20, -1), (-HISTORY_DAYS, -29)
    if shift_type == Member.ShiftType.FTOP:
        past = {
            FTOP_CREDIT: [(*whole, True)] * 3,
            FTOP_DEBT: [(*recent, False)],
            FTOP_DELAY: [(*old, False)],
            FTOP_SUSPENDED: [(*old, False)],
        }.get(work, [(*whole, True)] * 2)
        future = [] if work in (ON_LEAVE, EXEMPTED, BLOCKED) else [(1, 35, None)] * (1 + (work == FTOP_CREDIT))
        return past + future
    past = {BANKED: [(*whole, True)], ALERT: [] if regular_missed else [(*recent, False)]}.get(work, [])
    future = [(2, 21, None)] if work in (ALERT, SUSPENDED, DELAY) else []  # a make-up
    return past + future


class _History:
    """The state seed_history works on: shifts with their free seats, who is where."""

    def __init__(self, *, today: datetime.date, member_ids):
        live = Q(registrations__cancelled_at__isnull=True)
        self.shifts = list(
            Shift.objects.filter(date__gte=today - _days(HISTORY_DAYS), date__lte=today + _days(AHEAD_DAYS), cancelled=False, welcome=False)
            .annotate(taken=Count("registrations", filter=live)).order_by("start", "pk")
        )
        self.dates: dict[int, set[datetime.date]] = {}
        for member_id, day in Registration.objects.filter(
            member_id__in=member_ids, cancelled_at__isnull=True, shift__date__gte=today - _days(HISTORY_DAYS)
        ).values_list("member_id", "shift__date"):
            self.dates.setdefault(member_id, set()).add(day)

    def book(self, member: Member, first: datetime.date, last: datetime.date, *, rng: random.Random, now, by):
        """Book one shift in [first, last] with a free seat, on a day the member is free."""
        busy = self.dates.setdefault(member.pk, set())
        candidates = [s for s in self.shifts if first <= s.date <= last and s.taken < s.capacity and s.date not in busy]
        rng.shuffle(candidates)
        for shift in candidates[:10]:
            booked_at = now if now is not None else shift.start - _days(2)  # booked two days ahead
            if shift.start <= booked_at:
                continue
            try:
                registration = shift_services.shift_book(shift=shift, member=member, now=booked_at, by=by)
            except RuleViolation:
                continue
            shift.taken += 1
            busy.add(shift.date)
            return registration
        return None


def _block(*, member: Member, reason: str, today: datetime.date, by=None) -> None:
    """member_block; while its history cause is built with a precedence slip (`{...}[:255]` slices
    the dict, a KeyError on every call), do what it does: the reason, then the status refresh."""
    try:
        shift_services.member_block(member=member, reason=reason, today=today, by=by)
    except KeyError:
        with transaction.atomic():
            Member.objects.filter(pk=member.pk).update(blocked_reason=reason, updated_at=timezone.now())
            shift_services.status_refresh(member=member, today=today, cause=f"Blocked: {reason}"[:255])


def seed_history(*, today: datetime.date, now: datetime.datetime, by=None, log) -> dict:
    """The past 8 weeks of the demo members' work, through the services and in date order, then
    today's decisions. Idempotent: bookings only for members who never booked, attendance only
    on registrations still unrecorded, each decision only once."""
    working = {}
    for member in _working_members():
        email = member.email.lower()
        if email == MEMBER_ACCOUNT_EMAIL:
            working[member.pk] = (member, UP_TO_DATE, "member")
        elif email.endswith(f"@{DEMO_DOMAIN}") and (index := _demo_index(email)) is not None:
            working[member.pk] = (member, work_scenario(index, member.shift_type), index)
    counts = Counter()
    window = today - _days(HISTORY_DAYS)

    regular_dates: dict[int, list[datetime.date]] = {}
    for member_id, day in (
        Registration.objects.filter(
            member_id__in=working, kind=Registration.Kind.REGULAR, cancelled_at__isnull=True,
            shift__date__gte=window, shift__date__lt=today,
        ).order_by("shift__date").values_list("member_id", "shift__date")
    ):
        regular_dates.setdefault(member_id, []).append(day)
    missed = {
        member_id: missed_regular_dates(work, regular_dates.get(member_id, []), today=today)
        for member_id, (member, work, _key) in working.items()
        if member.shift_type == Member.ShiftType.STANDARD
    }

    # 1. One-off bookings (make-ups, extra shifts, FTOP shifts), each made two days ahead.
    booked_before = set(Registration.objects.filter(kind=Registration.Kind.ONE_OFF).values_list("member_id", flat=True))
    state = _History(today=today, member_ids=list(working))
    came: dict[int, bool] = {}
    future = []
    for member_id, (member, work, key) in working.items():
        if member_id in booked_before:
            continue
        rng = random.Random(f"{SEED}:{key}:book")
        start = max(d for d in (member.work_start_date, member.joined_on, window) if d is not None)
        for first, last, attended in booking_requests(work, member.shift_type, today=today, regular_missed=bool(missed.get(member_id))):
            if attended is None:
                future.append((member, today + _days(first), today + _days(last), rng))
                continue
            registration = state.book(member, max(start, today + _days(first)), today + _days(last), rng=rng, now=None, by=by)
            if registration is not None:
                came[registration.pk] = attended
                counts["past bookings"] += 1

    # 2. Attendance day by day, and each night's close: what nobody recorded becomes missed.
    def attends(registration: Registration) -> bool:
        if registration.pk in came:
            return came[registration.pk]
        if registration.member_id not in working:
            return False
        if registration.kind == Registration.Kind.REGULAR:
            return registration.shift.date not in missed.get(registration.member_id, ())
        return True

    pending = (
        Registration.objects.filter(cancelled_at__isnull=True, attendance__isnull=True, shift__date__lt=today, shift__cancelled=False)
        .select_related("shift", "member").order_by("shift__date", "shift__start", "pk")
    )
    for day, registrations in groupby(pending, key=lambda r: r.shift.date):
        for registration in registrations:
            if attends(registration):
                shift_services.attendance_record(
                    shift=registration.shift, member=registration.member, state=Registration.Attendance.ATTENDED,
                    now=registration.shift.end + datetime.timedelta(minutes=10), today=day, by=by,
                )
                counts["attended"] += 1
        counts["missed"] += shift_services.shifts_close(today=day + _days(1))["missed"]
    shift_services.shifts_close(today=today)

    # 3. Bookings ahead and offers on the exchange, as of now.
    for member, first, last, rng in future:
        if state.book(member, first, last, rng=rng, now=now, by=by) is not None:
            counts["future bookings"] += 1
    offered = set(Registration.objects.filter(offered_at__isnull=False).values_list("member_id", flat=True))
    for member_id, (member, work, key) in working.items():
        if work != UP_TO_DATE or member_id in offered or random.Random(f"{SEED}:{key}:offer").random() >= 0.12:
            continue
        notice = now + datetime.timedelta(hours=25)
        registration = (
            Registration.objects.filter(member=member, kind=Registration.Kind.REGULAR, cancelled_at__isnull=True, shift__start__gt=notice)
            .select_related("shift").order_by("shift__start").first()
        )
        if registration is not None:
            shift_services.shift_offer(shift=registration.shift, member=member, now=now, by=by)
            counts["offers"] += 1

    # 4. Today's decisions: leaves and exemptions from today, extensions, a block.
    for _member_id, (member, work, key) in working.items():
        rng = random.Random(f"{SEED}:{key}:decision")
        try:
            if work in (ON_LEAVE, PLANNED_LEAVE) and not member.leaves.exists():
                start = today if work == ON_LEAVE else today + _days(rng.randint(10, 30))
                shift_services.leave_create(
                    member=member, start=start, end=start + _days(rng.randint(41, 97)), reason=rng.choice(SHIFT_LEAVE_REASONS),
                    today=today, now=now, by=by,
                )
                counts["leaves"] += 1
            elif work == EXEMPTED and not member.exemptions.exists():
                end = None if rng.random() < 0.4 else today + _days(rng.randint(60, 180))
                shift_services.exemption_create(
                    member=member, start=today, end=end, reason=rng.choice(EXEMPTION_REASONS), today=today, now=now, by=by
                )
                counts["exemptions"] += 1
            elif work in (DELAY, FTOP_DELAY) and not member.extensions.exists():
                shift_services.extension_grant(member=member, reason=rng.choice(EXTENSION_REASONS), today=today, by=by)
                counts["extensions"] += 1
            elif work == BLOCKED and not Member.objects.get(pk=member.pk).blocked_reason:
                _block(member=member, reason=rng.choice(BLOCK_REASONS), today=today, by=by)
                counts["blocks"] += 1
        except RuleViolation as refusal:  # e.g. a newcomer in a debt scenario who owes nothing yet
            log(f"  {member.display_number}: {work} not applied ({refusal.message})")
    log("  history: " + (", ".join(f"{n} {what}" for what, n in counts.items()) or "already there"))
    return dict(counts)


def seed_welcome(*, today: datetime.date, now: datetime.datetime, by=None, log) -> dict:
    """Welcome dates: demo members who joined more than 30 days ago were welcomed a week after
    joining; newer ones are booked on the next welcome session with room (the welcome desk gives
    them a slot after it). Idempotent: only members not yet welcomed and not yet booked."""
    counts = Counter()
    demo = Member.objects.filter(email__iendswith=f"@{DEMO_DOMAIN}", welcomed_on__isnull=True).exclude(
        membership=Member.Membership.LEFT).order_by("member_number")
    booked = set(Registration.objects.filter(cancelled_at__isnull=True, shift__welcome=True).values_list("member_id", flat=True))
    sessions = list(Shift.objects.filter(welcome=True, cancelled=False, start__gt=now).order_by("start")[:3])
    for member in demo:
        if (today - member.joined_on).days > 30:
            quals.member_welcomed_set(member=member, day=min(today, member.joined_on + _days(7)), by=by, reason="Réunion d'accueil")
            counts["welcomed"] += 1
            continue
        if member.pk in booked:
            continue
        for session in sessions:
            try:
                shift_services.shift_book(shift=session, member=member, now=now, by=by)
            except RuleViolation:
                continue
            counts["booked on a welcome session"] += 1
            break
    log("  welcome: " + (", ".join(f"{n} {what}" for what, n in counts.items()) or "already there"))
    return dict(counts)


class Command(BaseCommand):
    help = "Load a realistic demo coop (idempotent). Prints the demo accounts (password: demo)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=300, help="How many demo members (default 300).")
        parser.add_argument(
            "--force", action="store_true",
            help="Run even with DJANGO_DEBUG off (it creates admin/demo and the other demo accounts).",
        )

    def handle(self, *args, members: int, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DJANGO_DEBUG is off: this looks like a real installation, and seed_demo creates accounts "
                "(admin, coordinator...) whose password is 'demo'. Use DJANGO_DEBUG=1, or --force on a throwaway database."
            )
        if not settings.DEBUG:
            self.stderr.write(self.style.WARNING("DEBUG is off: the demo accounts all use the password 'demo'."))
        _demo_password_hash.cache_clear()  # hash with this run's hasher settings
        today, now = timezone.localdate(), timezone.now()
        log = self.stdout.write
        log(f"Seeding the demo coop as of {today.isoformat()}:")
        with notifications.muted():  # demo bookings and attendance e-mail nobody
            self.seed(today=today, now=now, members=members, log=log)
        self.summary(log)

    def seed(self, *, today, now, members: int, log) -> None:
        with transaction.atomic():
            accounts = seed_accounts(log=log)
            by = accounts["coordinator"]
            seed_templates(now=now, log=log)
            seed_member_account(today=today, by=by, log=log)
        seed_members(count=max(0, members), today=today, by=by, log=log)
        with transaction.atomic():
            seed_shifts(today=today, by=by, log=log)
        with transaction.atomic():
            seed_history(today=today, now=now, by=by, log=log)
        with transaction.atomic():
            seed_welcome(today=today, now=now, by=by, log=log)
        # The daily job: memberships as of today, the cycle charge, statuses (deadlines...).
        job = shift_services.statuses_update(today=today)
        log("  update_statuses: " + ", ".join(f"{name} {n} changed" for name, n in job.items()))
        with transaction.atomic():
            stock = inventory_demo.seed(today=today, by=accounts["supply"])
        log("  inventory: " + ", ".join(f"{name} {n}" for name, n in stock.items()))
        assemblies = assembly_demo.seed(today=today, by=accounts["coordinator"])
        log("  assemblies: " + (", ".join(f"{name} {n}" for name, n in assemblies.items()) or "already there"))

    def summary(self, log) -> None:
        states = Counter(Member.objects.values_list("membership", flat=True))
        log("Members by membership: " + ", ".join(f"{state} {states.get(state, 0)}" for state in Member.Membership.values))
        statuses = Counter(Member.objects.values_list("status", flat=True))
        log("Members by working status: " + ", ".join(f"{status} {statuses.get(status, 0)}" for status in Member.Status.values))
        ftop = Member.objects.filter(shift_type=Member.ShiftType.FTOP).exclude(status=Member.Status.NOT_CONCERNED)
        log(
            f"FTOP members: {ftop.filter(counter_ftop__gt=0).count()} with credit, "
            f"{ftop.filter(counter_ftop=0).count()} at 0, {ftop.filter(counter_ftop__lt=0).count()} in debt"
        )
        from shifts.selectors import shifts_without_leader

        today, now = timezone.localdate(), timezone.now()
        held = quals.holders_count(today)
        log("Qualified today: " + ", ".join(f"{q.code} {held.get(q.pk, 0)}" for q in Qualification.objects.all())
            + f"; shifts flagged 'no leader' now: {len(shifts_without_leader(now=now, today=today))}")
        log(self.style.SUCCESS(f"Demo accounts (password '{DEMO_PASSWORD}'):"))
        for username, (*_rest, description) in ACCOUNTS.items():
            log(f"  {username:<12} {description}")
