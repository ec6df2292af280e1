"""Membership services against the database (DOMAIN.md §1): numbering, subscriptions, payments,
instalments, work start date, associates, leaving, redemption, anonymisation, parameters."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from coopmarket.errors import RuleViolation
from members import services
from members.barcodes import associate_barcode, member_barcode
from members.models import (
    Associate,
    CoopParameters,
    Member,
    MemberEvent,
    Payment,
    Sequence,
    ShareSubscription,
)
from members.signals import member_left
from members.tests.factories import (
    TODAY,
    MemberFactory,
    UserFactory,
    active_member,
    share_class_a,
    share_class_b,
    subscribe,
    supporting_member,
)

pytestmark = pytest.mark.django_db

D = datetime.date
EUR = Decimal
DAY = datetime.timedelta(days=1)

JAN15 = D(2026, 1, 15)
SECOND_DUE = D(2026, 2, 15)  # second instalment of a subscription of 15 January


def member_count():
    return Member.objects.count()


def sequence_value(name="member"):
    row = Sequence.objects.filter(name=name).first()
    return row.last_value if row else 0


def on_instalments(today=JAN15, instalments=10, **kw):
    """A member with 10 A shares (100 EUR) subscribed on `today` in monthly instalments."""
    member = MemberFactory(joined_on=today, **kw)
    subscription = subscribe(member, 10, today=today, instalments=instalments)
    member.refresh_from_db()
    return member, subscription


def pay(subscription, amount, *, today, paid_on=None, method=Payment.Method.CASH):
    return services.payment_record(
        subscription=subscription, amount=amount, method=method, today=today, paid_on=paid_on
    )


def reload(member):
    return Member.objects.get(pk=member.pk)


def leave(member, today=TODAY):
    return services.member_leave(member=member, reason="Moving away", today=today)


# --- share classes --------------------------------------------------------------------------------


def test_migrated_share_classes_carry_the_default_rules():
    a, b = share_class_a(), share_class_b()
    assert (a.unit_price, a.min_quantity, a.low_income_min_quantity, a.grants_shopping, a.grants_work) == (
        EUR("10.00"), 10, 1, True, True,
    )
    assert (b.unit_price, b.min_quantity, b.grants_shopping, b.grants_work) == (EUR("10.00"), 1, False, False)


# --- member numbers and creation ------------------------------------------------------------------


def test_member_numbers_are_gap_free_from_1_with_their_card_barcodes():
    members = [MemberFactory() for _ in range(3)]
    assert [m.member_number for m in members] == [1, 2, 3]
    assert [m.card_barcode for m in members] == ["0420000000013", "0420000000020", "0420000000037"]
    assert [m.display_number for m in members] == ["000001", "000002", "000003"]


def test_duplicate_email_does_not_consume_a_member_number():
    first = MemberFactory(email="ann@example.org")
    with pytest.raises(ValidationError) as exc:
        MemberFactory(email="ann@example.org")
    assert "email" in exc.value.message_dict
    second = MemberFactory()
    assert (first.member_number, second.member_number) == (1, 2)
    assert second.card_barcode == member_barcode(2)


def test_failure_after_numbering_rolls_the_number_back():
    MemberFactory()
    # An unparsable birth date fails inside the INSERT, after the number was taken.
    with pytest.raises(ValidationError):
        MemberFactory(birth_date="not-a-date")
    assert sequence_value() == 1
    assert MemberFactory().member_number == 2


@pytest.mark.parametrize("email", ["ANN@example.org", "Ann@Example.Org", "  ann@EXAMPLE.org "])
def test_duplicate_email_is_refused_whatever_its_case(email):
    MemberFactory(email="ann@example.org")
    with pytest.raises(ValidationError) as exc:
        MemberFactory(email=email)
    assert list(exc.value.message_dict) == ["email"]
    assert member_count() == 1


def test_member_update_refuses_another_members_email_whatever_its_case():
    MemberFactory(email="ann@example.org")
    bob = MemberFactory(email="bob@example.org")
    with pytest.raises(ValidationError):
        services.member_update(member=bob, email="ANN@example.org", today=TODAY)
    assert reload(bob).email == "bob@example.org"
    services.member_update(member=bob, email="BOB@example.org", today=TODAY)  # own address, new case
    assert reload(bob).email == "BOB@example.org"


def confirm_login_email(user, member, old, new):
    token = services.login_email_token(user_id=user.pk, member_id=member.pk, old=old, new=new)
    return services.login_email_confirm(user=user, token=token)


def test_new_email_moves_the_members_login_username_and_address_once_confirmed():
    member = MemberFactory(email="ann@example.org")
    user = services.member_login_create(member=reload(member))
    services.member_update(member=reload(member), email="Ann.New@Example.org", today=TODAY)
    user.refresh_from_db()
    assert (user.username, user.email) == ("ann@example.org", "ann@example.org")  # until the member confirms
    confirm_login_email(user, member, "ann@example.org", "Ann.New@Example.org")
    user.refresh_from_db()
    assert (user.username, user.email) == ("ann.new@example.org", "Ann.New@Example.org")


def test_new_email_keeps_a_username_that_was_not_the_old_address():
    member = MemberFactory(email="ann@example.org")
    user = UserFactory(username="ann-the-member", email="ann@example.org")
    Member.objects.filter(pk=member.pk).update(user=user)
    services.member_update(member=reload(member), email="ann.new@example.org", today=TODAY)
    confirm_login_email(user, member, "ann@example.org", "ann.new@example.org")
    user.refresh_from_db()
    assert (user.username, user.email) == ("ann-the-member", "ann.new@example.org")


def test_new_email_taken_by_another_login_changes_nothing():
    member = MemberFactory(email="ann@example.org")
    user = services.member_login_create(member=reload(member))
    UserFactory(username="new@example.org")
    with pytest.raises(ValidationError) as exc:
        services.member_update(member=reload(member), email="NEW@example.org", city="Lyon", today=TODAY)
    assert list(exc.value.message_dict) == ["email"]
    user.refresh_from_db()
    assert (user.username, user.email) == ("ann@example.org", "ann@example.org")
    assert (reload(member).email, reload(member).city) == ("ann@example.org", "")


@pytest.mark.parametrize(
    ("field", "value"), [("first_name", ""), ("first_name", "   "), ("last_name", ""), ("last_name", None)]
)
def test_missing_names_are_refused_and_nothing_written(field, value):
    with pytest.raises(ValidationError) as exc:
        MemberFactory(**{field: value})
    assert field in exc.value.message_dict
    assert member_count() == 0
    assert MemberEvent.objects.count() == 0
    assert sequence_value() == 0


@pytest.mark.parametrize("email", ["", "not-an-email", "ann@", "@example.org", "ann example@example.org"])
def test_invalid_email_is_refused_and_nothing_written(email):
    with pytest.raises(ValidationError) as exc:
        MemberFactory(email=email)
    assert "email" in exc.value.message_dict
    assert member_count() == 0
    assert sequence_value() == 0


def test_a_new_member_has_no_membership_and_no_work_start_date():
    member = reload(MemberFactory())
    assert member.membership == Member.Membership.NONE
    assert member.work_start_date is None


# --- subscriptions ------------------------------------------------------------------------------


def test_first_subscription_below_the_class_minimum_is_refused_and_nothing_written():
    member = MemberFactory()
    with pytest.raises(ValidationError) as exc:
        subscribe(member, 9)
    assert "quantity" in exc.value.message_dict
    assert ShareSubscription.objects.count() == 0
    assert Payment.objects.count() == 0
    assert reload(member).membership == Member.Membership.NONE


def test_first_subscription_at_the_class_minimum_makes_member_active():
    member = MemberFactory()
    subscription = subscribe(member, 10)
    assert (subscription.quantity, subscription.unit_price, subscription.amount) == (10, EUR("10.00"), EUR("100.00"))
    payment = subscription.payments.get()
    assert (payment.amount, payment.paid_on, payment.method, payment.kind) == (
        EUR("100.00"), TODAY, Payment.Method.CASH, Payment.Kind.PAYMENT,
    )
    assert reload(member).membership == Member.Membership.ACTIVE


def test_low_income_member_may_start_with_one_share():
    member = MemberFactory(low_income=True)
    subscribe(member, 1)
    assert reload(member).membership == Member.Membership.ACTIVE
    assert Payment.objects.get().amount == EUR("10.00")


def test_low_income_member_still_needs_one_share():
    member = MemberFactory(low_income=True)
    with pytest.raises(ValidationError):
        subscribe(member, 0)
    assert ShareSubscription.objects.count() == 0


def test_later_subscriptions_may_add_any_number_of_shares():
    member = active_member()
    extra = subscribe(member, 1)
    assert extra.amount == EUR("10.00")
    assert sum(s.quantity for s in member.subscriptions.all()) == 11
    assert reload(member).membership == Member.Membership.ACTIVE


def test_supporting_shares_do_not_count_as_a_first_shopping_subscription():
    member = supporting_member()
    with pytest.raises(ValidationError):
        subscribe(member, 1)  # first subscription to class A: minimum 10
    assert member.subscriptions.count() == 1


@pytest.mark.parametrize("quantity", [0, -1, -10])
def test_zero_or_negative_quantity_is_refused(quantity):
    member = active_member()
    with pytest.raises(ValidationError) as exc:
        subscribe(member, quantity)
    assert "quantity" in exc.value.message_dict
    with pytest.raises(ValidationError):
        subscribe(member, quantity, share_class=share_class_b())
    assert member.subscriptions.count() == 1


def test_subscription_paid_on_a_future_date_is_refused_and_nothing_written():
    member = MemberFactory()
    with pytest.raises(ValidationError) as exc:
        subscribe(member, 10, paid_on=TODAY + DAY)
    assert "paid_on" in exc.value.message_dict
    assert ShareSubscription.objects.count() == 0
    assert Payment.objects.count() == 0


def test_payment_dated_in_the_future_is_refused():
    _member, subscription = on_instalments()
    with pytest.raises(ValidationError) as exc:
        pay(subscription, "10.00", today=JAN15, paid_on=JAN15 + DAY)
    assert "paid_on" in exc.value.message_dict
    assert subscription.payments.count() == 1


def test_more_instalments_than_the_maximum_are_refused():
    member = MemberFactory()
    with pytest.raises(ValidationError) as exc:
        subscribe(member, 10, instalments=11)
    assert "instalments" in exc.value.message_dict
    assert subscribe(member, 10, instalments=10).instalments == 10


# --- instalments and payments ---------------------------------------------------------------------


def test_subscribing_by_instalments_records_only_the_first_as_paid():
    member, subscription = on_instalments()
    payment = subscription.payments.get()
    assert (payment.amount, payment.paid_on) == (EUR("10.00"), JAN15)
    assert services.subscription_balance(subscription) == EUR("90.00")
    assert member.membership == Member.Membership.ACTIVE
    assert member.work_start_date == JAN15


def test_instalments_paid_on_time_keep_member_active():
    member, subscription = on_instalments()
    for month in range(2, 11):
        due = D(2026, month, 15)
        pay(subscription, "10.00", today=due)
        assert services.memberships_refresh_all(today=due + datetime.timedelta(days=31)) == 0
    assert services.subscription_balance(subscription) == EUR("0.00")
    assert reload(member).membership == Member.Membership.ACTIVE


def test_instalment_exactly_30_days_late_keeps_member_active():
    member, _subscription = on_instalments()
    assert services.memberships_refresh_all(today=SECOND_DUE + datetime.timedelta(days=30)) == 0
    assert reload(member).membership == Member.Membership.ACTIVE


def test_instalment_more_than_30_days_overdue_makes_member_unpaid():
    member, _subscription = on_instalments()
    assert services.memberships_refresh_all(today=SECOND_DUE + datetime.timedelta(days=31)) == 1
    assert reload(member).membership == Member.Membership.UNPAID


def test_refreshing_memberships_twice_changes_nothing_the_second_time():
    on_instalments()
    active_member()
    day = SECOND_DUE + datetime.timedelta(days=31)
    assert services.memberships_refresh_all(today=day) == 1
    assert services.memberships_refresh_all(today=day) == 0


def test_paying_the_overdue_instalment_makes_member_active_again():
    member, subscription = on_instalments()
    late = SECOND_DUE + datetime.timedelta(days=40)
    services.memberships_refresh_all(today=late)
    assert reload(member).membership == Member.Membership.UNPAID
    pay(subscription, "10.00", today=late)
    member = reload(member)
    assert member.membership == Member.Membership.ACTIVE
    assert member.work_start_date == JAN15  # the first payment that made them active


def test_overpayment_is_refused_and_nothing_written():
    _member, subscription = on_instalments()
    with pytest.raises(ValidationError) as exc:
        pay(subscription, "90.01", today=JAN15)
    assert "amount" in exc.value.message_dict
    assert list(subscription.payments.values_list("amount", flat=True)) == [EUR("10.00")]
    pay(subscription, "90.00", today=JAN15)
    assert services.subscription_balance(subscription) == EUR("0.00")


def test_a_payment_on_a_subscription_paid_in_full_is_refused():
    member = active_member()
    subscription = member.subscriptions.get()
    with pytest.raises(ValidationError):
        pay(subscription, "0.01", today=TODAY)
    assert subscription.payments.count() == 1


@pytest.mark.parametrize("amount", ["0", "0.00", "-10.00", "abc", "1.005", "NaN", "Infinity", None])
def test_invalid_payment_amounts_are_refused(amount):
    _member, subscription = on_instalments()
    with pytest.raises(ValidationError) as exc:
        pay(subscription, amount, today=JAN15)
    assert "amount" in exc.value.message_dict
    assert subscription.payments.count() == 1


def test_a_recorded_payment_cannot_be_changed():
    member = active_member()
    payment = Payment.objects.get(subscription__member=member)
    payment.amount = EUR("1.00")
    with pytest.raises(ValidationError):
        payment.save()
    assert Payment.objects.get(pk=payment.pk).amount == EUR("100.00")


def test_a_recorded_payment_cannot_be_deleted():
    member = active_member()
    payment = Payment.objects.get(subscription__member=member)
    with pytest.raises(ValidationError):
        payment.delete()
    assert Payment.objects.filter(pk=payment.pk).exists()


# --- work start date ----------------------------------------------------------------------------


def test_work_start_date_is_the_date_of_the_payment_that_made_member_active():
    member = active_member(today=D(2026, 3, 2))
    assert member.work_start_date == D(2026, 3, 2)
    assert member.work_start_date_manual is False


def test_work_start_date_is_the_real_date_of_a_payment_recorded_later():
    member = MemberFactory(joined_on=D(2026, 2, 1))
    subscribe(member, 10, paid_on=D(2026, 2, 20), today=D(2026, 3, 2))
    member = reload(member)
    assert member.membership == Member.Membership.ACTIVE
    assert member.work_start_date == D(2026, 2, 20)


def test_work_start_date_comes_with_the_shopping_shares_not_the_supporting_ones():
    member = supporting_member(today=D(2026, 1, 10))
    assert member.work_start_date is None
    subscribe(member, 10, today=D(2026, 2, 20))
    assert reload(member).work_start_date == D(2026, 2, 20)


def test_work_start_date_set_by_coordinators_before_activation_is_kept():
    member = MemberFactory()
    services.member_update(member=member, work_start_date=D(2026, 4, 6), today=TODAY)
    subscribe(member, 10, today=TODAY)
    member = reload(member)
    assert member.membership == Member.Membership.ACTIVE
    assert member.work_start_date == D(2026, 4, 6)
    assert member.work_start_date_manual is True


def test_work_start_date_set_by_coordinators_overrides_the_payment_date():
    member = active_member(today=TODAY)
    services.member_update(member=member, work_start_date=D(2026, 1, 5), today=TODAY)
    services.memberships_refresh_all(today=TODAY + DAY)
    assert reload(member).work_start_date == D(2026, 1, 5)


def test_clearing_the_coordinators_work_start_date_restores_the_payment_date():
    member = active_member(today=D(2026, 2, 2))
    services.member_update(member=member, work_start_date=D(2026, 5, 4), today=TODAY)
    services.member_update(member=member, work_start_date=None, today=TODAY)
    member = reload(member)
    assert member.work_start_date_manual is False
    assert member.work_start_date == D(2026, 2, 2)


# --- low income ---------------------------------------------------------------------------------


def test_removing_the_low_income_flag_makes_a_one_share_member_unpaid():
    member = MemberFactory(low_income=True)
    subscribe(member, 1)
    services.member_update(member=member, low_income=False, today=TODAY)
    assert reload(member).membership == Member.Membership.UNPAID
    subscribe(member, 9)  # later subscriptions may add any number
    assert reload(member).membership == Member.Membership.ACTIVE


# --- supporting members ---------------------------------------------------------------------------


def test_member_holding_only_class_b_is_supporting_without_work_start_date():
    member = supporting_member(quantity=1)
    assert member.membership == Member.Membership.SUPPORTING
    assert member.work_start_date is None
    assert member.subscriptions.get().amount == EUR("10.00")


def test_supporting_member_who_subscribes_class_a_becomes_active():
    member = supporting_member()
    subscribe(member, 10)
    assert reload(member).membership == Member.Membership.ACTIVE


# --- household associates -------------------------------------------------------------------------


def test_associate_gets_their_own_0421_card():
    member = active_member()
    associate = services.associate_add(member=member, first_name="Lea", last_name="Martin")
    assert associate.associate_number == 1
    assert associate.card_barcode == "0421000000010" == associate_barcode(1)
    assert associate.card_barcode != member.card_barcode
    assert associate.member == member


def test_a_second_associate_is_refused_by_default():
    member = active_member()
    services.associate_add(member=member, first_name="Lea", last_name="Martin")
    with pytest.raises(RuleViolation) as exc:
        services.associate_add(member=member, first_name="Noe", last_name="Martin")
    assert exc.value.code == "not_allowed"
    assert member.associates.count() == 1
    assert sequence_value("associate") == 1


def test_removing_an_associate_keeps_the_row_and_frees_the_place():
    member = active_member()
    first = services.associate_add(member=member, first_name="Lea", last_name="Martin")
    services.associate_remove(associate=first, today=TODAY)
    first.refresh_from_db()
    assert first.removed_on == TODAY
    second = services.associate_add(member=member, first_name="Noe", last_name="Martin")
    assert second.associate_number == 2
    assert member.associates.count() == 2


def test_associate_without_a_name_is_refused():
    member = active_member()
    with pytest.raises(ValidationError):
        services.associate_add(member=member, first_name="", last_name="Martin")
    assert Associate.objects.count() == 0


# --- leaving, redemption, anonymisation -------------------------------------------------------------


def test_leaving_makes_the_membership_left_at_once():
    member = leave(active_member(), today=D(2026, 5, 4))
    member = reload(member)
    assert member.membership == Member.Membership.LEFT
    assert member.left_on == D(2026, 5, 4)
    assert member.left_reason == "Moving away"


def test_leaving_marks_the_shares_for_redemption_after_365_days():
    member = active_member()
    subscribe(member, 2)
    leave(member, today=D(2026, 5, 4))
    for subscription in member.subscriptions.all():
        assert subscription.redemption_requested_on == D(2026, 5, 4)
        assert subscription.redemption_due_on == D(2027, 5, 4)
        assert subscription.redeemed_on is None


def test_leaving_deletes_nothing():
    member = active_member()
    associate = services.associate_add(member=member, first_name="Lea", last_name="Martin")
    leave(member)
    assert Member.objects.filter(pk=member.pk).exists()
    assert member.subscriptions.count() == 1
    assert Payment.objects.filter(subscription__member=member).count() == 1
    associate.refresh_from_db()
    assert associate.removed_on == TODAY


def test_leaving_twice_is_refused():
    member = leave(active_member(), today=TODAY)
    with pytest.raises(RuleViolation) as exc:
        leave(member, today=TODAY + DAY)
    assert exc.value.code == "not_allowed"
    assert reload(member).left_on == TODAY


def test_leaving_needs_a_reason():
    member = active_member()
    with pytest.raises(ValidationError):
        services.member_leave(member=member, reason="  ", today=TODAY)
    assert reload(member).membership == Member.Membership.ACTIVE


def test_leaving_tells_the_apps_above():
    received = []

    def receiver(sender, member, today, by, **kwargs):
        received.append((member.pk, today))

    member = active_member()
    member_left.connect(receiver)
    try:
        leave(member, today=TODAY)
    finally:
        member_left.disconnect(receiver)
    assert received == [(member.pk, TODAY)]


def test_a_member_who_left_stays_left_on_refresh():
    member = leave(active_member())
    services.memberships_refresh_all(today=TODAY + DAY)
    services.membership_refresh(member=reload(member), today=TODAY + DAY)
    assert reload(member).membership == Member.Membership.LEFT


def test_a_member_who_left_can_neither_subscribe_nor_pay():
    member, subscription = on_instalments()
    leave(member, today=JAN15)
    with pytest.raises(RuleViolation):
        subscribe(member, 10, today=JAN15)
    with pytest.raises(RuleViolation):
        pay(subscription, "10.00", today=JAN15)
    assert Payment.objects.count() == 1


def test_redemption_writes_a_ledger_row_of_the_amount_paid():
    member, subscription = on_instalments()
    pay(subscription, "15.00", today=D(2026, 2, 1))
    leave(member, today=D(2026, 3, 1))
    services.redemption_record(subscription=subscription, method=Payment.Method.TRANSFER, today=D(2027, 3, 1))
    row = subscription.payments.get(kind=Payment.Kind.REDEMPTION)
    assert (row.amount, row.method, row.paid_on) == (EUR("25.00"), Payment.Method.TRANSFER, D(2027, 3, 1))
    subscription.refresh_from_db()
    assert subscription.redeemed_on == D(2027, 3, 1)
    assert sum(p.signed_amount for p in subscription.payments.all()) == EUR("0.00")


def test_redemption_before_the_statutory_delay_is_refused():
    member = leave(active_member(), today=D(2026, 5, 4))
    subscription = member.subscriptions.get()
    with pytest.raises(RuleViolation):
        services.redemption_record(subscription=subscription, method=Payment.Method.CASH, today=D(2027, 5, 3))
    assert subscription.payments.filter(kind=Payment.Kind.REDEMPTION).count() == 0


def test_redemption_on_the_due_date_is_accepted():
    member = leave(active_member(), today=D(2026, 5, 4))
    subscription = member.subscriptions.get()
    services.redemption_record(subscription=subscription, method=Payment.Method.CASH, today=D(2027, 5, 4))
    assert subscription.payments.get(kind=Payment.Kind.REDEMPTION).amount == EUR("100.00")


def test_redemption_of_shares_not_marked_for_it_is_refused():
    member = active_member()
    with pytest.raises(RuleViolation):
        services.redemption_record(
            subscription=member.subscriptions.get(), method=Payment.Method.CASH, today=TODAY
        )
    assert Payment.objects.filter(kind=Payment.Kind.REDEMPTION).count() == 0


def test_shares_are_redeemed_only_once():
    member = leave(active_member())
    subscription = member.subscriptions.get()
    due = subscription.redemption_due_on
    services.redemption_record(subscription=subscription, method=Payment.Method.CASH, today=due)
    with pytest.raises(RuleViolation):
        services.redemption_record(subscription=subscription, method=Payment.Method.CASH, today=due)
    assert Payment.objects.filter(kind=Payment.Kind.REDEMPTION).count() == 1


def test_anonymising_is_refused_before_the_shares_are_redeemed():
    member = leave(active_member(first_name="Ann", email="ann@example.org"))
    with pytest.raises(RuleViolation) as exc:
        services.member_anonymise(member=member, today=TODAY)
    assert exc.value.code == "not_allowed"
    member = reload(member)
    assert member.anonymised_on is None
    assert (member.first_name, member.email) == ("Ann", "ann@example.org")


def test_anonymising_a_member_who_has_not_left_is_refused():
    member = active_member()
    with pytest.raises(RuleViolation):
        services.member_anonymise(member=member, today=TODAY)
    assert reload(member).anonymised_on is None


def test_anonymising_wipes_personal_data_but_keeps_the_payments():
    user = UserFactory(username="ann", email="ann@example.org")
    member = MemberFactory(
        first_name="Ann", last_name="Dupont", email="ann@example.org", phone="0600000000",
        address="1 rue de la Paix", postal_code="75002", city="Paris", birth_date=D(1980, 1, 2), notes="Allergic",
    )
    member.user = user
    member.save()
    subscribe(member, 10)
    associate = services.associate_add(member=member, first_name="Lea", last_name="Dupont")
    leave(member)
    subscription = member.subscriptions.get()
    services.redemption_record(subscription=subscription, method=Payment.Method.CASH, today=subscription.redemption_due_on)

    services.member_anonymise(member=member, today=subscription.redemption_due_on)

    member = reload(member)
    personal = [member.first_name, member.last_name, member.email, member.search_name]
    assert not any("ann" in value.lower() or "dupont" in value.lower() for value in personal)
    assert (member.phone, member.address, member.postal_code, member.city, member.notes, member.left_reason) == (
        "", "", "", "", "", "",
    )
    assert member.birth_date is None
    assert member.anonymised_on == subscription.redemption_due_on
    assert member.user is None
    assert member.member_number == 1
    associate.refresh_from_db()
    assert "dupont" not in f"{associate.first_name} {associate.last_name}".lower()
    user.refresh_from_db()
    assert user.is_active is False
    assert "ann" not in (user.username + user.email).lower()
    payments = Payment.objects.filter(subscription__member=member)
    assert sorted((p.kind, p.amount) for p in payments) == [
        (Payment.Kind.PAYMENT, EUR("100.00")),
        (Payment.Kind.REDEMPTION, EUR("100.00")),
    ]


# --- parameters are read, not literals --------------------------------------------------------------


def set_parameters(**values):
    params = CoopParameters.current()
    for name, value in values.items():
        setattr(params, name, value)
    params.save()


def test_max_associates_parameter_allows_a_second_associate():
    set_parameters(max_associates=2)
    member = active_member()
    services.associate_add(member=member, first_name="Lea", last_name="Martin")
    services.associate_add(member=member, first_name="Noe", last_name="Martin")
    with pytest.raises(RuleViolation):
        services.associate_add(member=member, first_name="Zoe", last_name="Martin")
    assert member.associates.count() == 2


def test_overdue_days_parameter_changes_when_member_becomes_unpaid():
    set_parameters(instalment_overdue_days=10)
    member, _subscription = on_instalments()
    assert services.memberships_refresh_all(today=SECOND_DUE + datetime.timedelta(days=10)) == 0
    assert reload(member).membership == Member.Membership.ACTIVE
    assert services.memberships_refresh_all(today=SECOND_DUE + datetime.timedelta(days=11)) == 1
    assert reload(member).membership == Member.Membership.UNPAID


def test_max_instalments_parameter_is_read():
    set_parameters(max_instalments=3)
    member = MemberFactory()
    with pytest.raises(ValidationError):
        subscribe(member, 10, instalments=4)
    subscription = subscribe(member, 10, instalments=3)
    assert subscription.payments.get().amount == EUR("33.34")


def test_redemption_delay_parameter_sets_the_due_date():
    set_parameters(redemption_delay_days=30)
    member = leave(active_member(), today=D(2026, 5, 4))
    assert member.subscriptions.get().redemption_due_on == D(2026, 6, 3)


def test_overdue_days_parameter_is_read_when_one_member_is_refreshed():
    set_parameters(instalment_overdue_days=10)
    member, _subscription = on_instalments()
    services.membership_refresh(member=member, today=SECOND_DUE + datetime.timedelta(days=10))
    assert reload(member).membership == Member.Membership.ACTIVE
    services.membership_refresh(member=member, today=SECOND_DUE + datetime.timedelta(days=11))
    assert reload(member).membership == Member.Membership.UNPAID
