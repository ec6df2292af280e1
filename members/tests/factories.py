"""factory_boy factories and helpers for members tests.

`MemberFactory` goes through `members.services.member_create`, so member numbers and card
barcodes come from the real gap-free sequence. Share classes are the ones the migration creates:
'A' (10 EUR, min 10, low-income min 1, shopping + work) and 'B' (10 EUR, min 1, no shopping).
Every helper takes `today`; nothing reads the clock.
"""
from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

from members import services
from members.models import Member, Payment, Qualification, ShareClass, ShareSubscription

TODAY = datetime.date(2026, 3, 2)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pass-word-123")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"member{n}@example.org")
    joined_on = TODAY

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.member_create(**kwargs)


def share_class_a() -> ShareClass:
    """Cooperator shares (migrated): 10.00 EUR, min 10, low-income min 1, shopping and work."""
    return ShareClass.objects.get(code="A")


def share_class_b() -> ShareClass:
    """Supporting shares (migrated): 10.00 EUR, min 1, no shopping, no work."""
    return ShareClass.objects.get(code="B")


def subscribe(
    member: Member,
    quantity: int = 10,
    *,
    share_class: ShareClass | None = None,
    today: datetime.date = TODAY,
    paid_on: datetime.date | None = None,
    instalments: int = 1,
    payment_method: str = Payment.Method.CASH,
    by=None,
) -> ShareSubscription:
    return services.share_subscribe(
        member=member,
        share_class=share_class or share_class_a(),
        quantity=quantity,
        payment_method=payment_method,
        today=today,
        paid_on=paid_on,
        instalments=instalments,
        by=by,
    )


def active_member(*, today: datetime.date = TODAY, **kw) -> Member:
    """A member holding 10 A shares paid in full on `today` (membership `active`)."""
    member = MemberFactory(joined_on=kw.pop("joined_on", today), **kw)
    subscribe(member, 10, today=today)
    member.refresh_from_db()
    return member


def supporting_member(*, today: datetime.date = TODAY, quantity: int = 1, **kw) -> Member:
    """A member holding only B shares, paid in full (membership `supporting`)."""
    member = MemberFactory(joined_on=kw.pop("joined_on", today), **kw)
    subscribe(member, quantity, share_class=share_class_b(), today=today)
    member.refresh_from_db()
    return member


def qualification(code: str, name: str = "") -> Qualification:
    """A qualification by code: the migrated defaults (leader, cashier, reception), or a new one
    (transactional tests may have flushed the migrated rows)."""
    return Qualification.objects.get_or_create(code=code, defaults={"name": name or code.capitalize()})[0]
