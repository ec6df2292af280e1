"""`python manage.py seed_demo [--members N]`: a realistic demo coop (CONTRACT.md §2).

Deterministic and idempotent: member number i of the demo is planned from `random.Random` seeded
with its index, so a second run finds every demo e-mail already there and creates nothing, and
`--members 400` after 300 adds the 100 missing members. Every write goes through the services.

The command is a list of small steps (`seed_accounts`, `seed_member_account`, `seed_members`),
each idempotent on its own; later issues add theirs (`seed_shifts`, `seed_inventory`...) to
`Command.handle`.
"""
from __future__ import annotations

import datetime
import functools
import random
import re
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from coopmarket.roles import CASHIERS, COORDINATORS, SUPPLY
from members import membership as ms
from members import services
from members.models import Member, Payment, ShareClass
from members.text import search_key

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
    "member": (None, False, False, "a cooperator (active, shares paid)"),
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
FORCED = {1: PAID, 2: INSTALMENTS_LATE, 3: SUPPORTING, 4: NO_SHARES, 5: LEFT, 6: INSTALMENTS_OK, 7: EXTRA, 8: PAID}
FORCED_LOW_INCOME = {8}


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
    return MemberPlan(**plan)


def member_from_plan(plan: MemberPlan, *, share_classes: dict[str, ShareClass], today: datetime.date, by=None) -> Member:
    """Register one planned member through the services: shares, instalments, associate, leaving."""
    member = services.member_create(
        first_name=plan.first_name, last_name=plan.last_name, email=plan.email, joined_on=plan.joined_on,
        shift_type=plan.shift_type, low_income=plan.low_income, phone=plan.phone, address=plan.address,
        postal_code=plan.postal_code, city=plan.city, birth_date=plan.birth_date, by=by,
    )
    if plan.share_class is None:
        return member
    rng = random.Random(f"{SEED}:{plan.index}:refs")
    subscription = services.share_subscribe(
        member=member, share_class=share_classes[plan.share_class], quantity=plan.quantity,
        payment_method=plan.method, today=today, paid_on=plan.paid_on, instalments=plan.instalments,
        reference=_reference(rng, plan.method), by=by,
    )
    schedule = subscription.schedule
    for i, paid_on in plan.instalment_payments:
        services.payment_record(
            subscription=subscription, amount=schedule[i][1], method=plan.method, today=today,
            paid_on=paid_on, reference=_reference(rng, plan.method), by=by,
        )
    if plan.extra:
        quantity, paid_on = plan.extra
        services.share_subscribe(
            member=member, share_class=share_classes["A"], quantity=quantity, payment_method=plan.method,
            today=today, paid_on=paid_on, reference=_reference(rng, plan.method), by=by,
        )
    if plan.associate:
        services.associate_add(member=member, first_name=plan.associate[0], last_name=plan.associate[1], by=by)
    if plan.left_on:
        services.member_leave(member=member, reason=plan.leave_reason, today=plan.left_on, by=by)
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
    """The `member` account: a cooperator with 10 A shares paid in full, who can sign in."""
    member = Member.objects.filter(email__iexact=MEMBER_ACCOUNT_EMAIL).first()
    if member is None:
        member = services.member_create(
            first_name="Camille", last_name="Lefèvre", email=MEMBER_ACCOUNT_EMAIL, joined_on=today - _days(730),
            phone="06 12 34 56 78", address="42 rue des Poissonniers", postal_code="75018", city="Paris", by=by,
        )
        services.share_subscribe(
            member=member, share_class=ShareClass.objects.get(code="A"), quantity=10,
            payment_method=Payment.Method.TRANSFER, today=today, paid_on=today - _days(728), by=by,
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
    for start in range(0, len(plans), CHUNK):
        with transaction.atomic():
            for plan in plans[start : start + CHUNK]:
                member_from_plan(plan, share_classes=share_classes, today=today, by=by)
    log(f"  created {len(plans)} demo members ({count - len(plans)} were already there)")
    return len(plans)


class Command(BaseCommand):
    help = "Load a realistic demo coop (idempotent). Prints the demo accounts (password: demo)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=300, help="How many demo members (default 300).")

    def handle(self, *args, members: int, **options):
        if not (settings.DEBUG or getattr(settings, "TESTING", False)):
            self.stderr.write(self.style.WARNING("DEBUG is off: the demo accounts all use the password 'demo'."))
        _demo_password_hash.cache_clear()  # hash with this run's hasher settings
        today = timezone.localdate()
        log = self.stdout.write
        log(f"Seeding the demo coop as of {today.isoformat()}:")
        with transaction.atomic():
            accounts = seed_accounts(log=log)
            seed_member_account(today=today, by=accounts["coordinator"], log=log)
        seed_members(count=max(0, members), today=today, by=accounts["coordinator"], log=log)
        # Later steps go here, each a function of (today=, by=, log=): seed_shifts, seed_inventory...
        self.summary(log)

    def summary(self, log) -> None:
        states = Counter(Member.objects.values_list("membership", flat=True))
        log("Members by membership: " + ", ".join(f"{state} {states.get(state, 0)}" for state in Member.Membership.values))
        log(self.style.SUCCESS(f"Demo accounts (password '{DEMO_PASSWORD}'):"))
        for username, (*_rest, description) in ACCOUNTS.items():
            log(f"  {username:<12} {description}")
