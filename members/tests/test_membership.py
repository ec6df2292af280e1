"""The pure membership rules of DOMAIN.md §1: instalment schedules, membership states, work start.

No database, no clock: every case passes its subscriptions, payments and date.
"""
import datetime
from decimal import Decimal

import pytest

from members import membership as ms
from members.models import ShareClass

D = datetime.date
EUR = Decimal
JAN15 = D(2026, 1, 15)


def sub(
    *,
    quantity=10,
    amount=None,
    instalments=1,
    subscribed_on=JAN15,
    payments=(),
    class_code="A",
    grants_shopping=True,
    minimum=10,
):
    """SubscriptionFacts with A-class defaults: 10 shares, 10.00 EUR each."""
    return ms.SubscriptionFacts(
        class_code=class_code,
        grants_shopping=grants_shopping,
        minimum=minimum,
        quantity=quantity,
        amount=EUR("10.00") * quantity if amount is None else amount,
        instalments=instalments,
        subscribed_on=subscribed_on,
        payments=tuple(payments),
    )


def supporting_sub(**kw):
    kw.setdefault("quantity", 1)
    kw.setdefault("minimum", 1)
    return sub(class_code="B", grants_shopping=False, **kw)


def status(subs, day, *, left=False, overdue_days=30):
    return ms.membership_status(subs, left=left, day=day, overdue_days=overdue_days)


# --- instalment schedule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "count"),
    [("100.00", 1), ("100.00", 3), ("100.00", 7), ("100.00", 10), ("10.00", 3), ("110.00", 9), ("0.10", 3)],
)
def test_instalments_sum_to_the_total_exactly(total, count):
    schedule = ms.instalment_schedule(EUR(total), count, D(2026, 1, 15))
    assert len(schedule) == count
    assert sum(amount for _day, amount in schedule) == EUR(total)


@pytest.mark.parametrize(("total", "count"), [("100.00", 3), ("110.00", 9), ("10.00", 10)])
def test_instalment_amounts_are_decimals_in_cents(total, count):
    for _day, amount in ms.instalment_schedule(EUR(total), count, D(2026, 1, 15)):
        assert type(amount) is Decimal
        assert amount.as_tuple().exponent == -2
        assert amount > 0


def test_instalments_are_equal_with_the_rounding_remainder_on_the_first():
    amounts = [a for _d, a in ms.instalment_schedule(EUR("100.00"), 3, D(2026, 1, 15))]
    assert amounts == [EUR("33.34"), EUR("33.33"), EUR("33.33")]


def test_ten_instalments_of_one_hundred_euros_are_ten_euros_each():
    amounts = [a for _d, a in ms.instalment_schedule(EUR("100.00"), 10, D(2026, 1, 15))]
    assert amounts == [EUR("10.00")] * 10


def test_a_single_instalment_is_the_whole_amount_on_the_first_due_date():
    assert ms.instalment_schedule(EUR("100.00"), 1, D(2026, 1, 15)) == [(D(2026, 1, 15), EUR("100.00"))]


def test_instalments_fall_due_monthly_from_the_first_due_date():
    days = [d for d, _a in ms.instalment_schedule(EUR("100.00"), 4, D(2026, 1, 15))]
    assert days == [D(2026, 1, 15), D(2026, 2, 15), D(2026, 3, 15), D(2026, 4, 15)]


def test_instalment_dates_clamp_to_month_end_without_drifting():
    days = [d for d, _a in ms.instalment_schedule(EUR("100.00"), 5, D(2026, 1, 31))]
    assert days == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31)]


def test_instalment_dates_use_29_february_in_a_leap_year():
    days = [d for d, _a in ms.instalment_schedule(EUR("100.00"), 2, D(2028, 1, 31))]
    assert days == [D(2028, 1, 31), D(2028, 2, 29)]


def test_instalment_dates_cross_the_year_end():
    days = [d for d, _a in ms.instalment_schedule(EUR("100.00"), 4, D(2026, 11, 30))]
    assert days == [D(2026, 11, 30), D(2026, 12, 30), D(2027, 1, 30), D(2027, 2, 28)]


@pytest.mark.parametrize("count", [0, -1])
def test_a_schedule_needs_at_least_one_instalment(count):
    with pytest.raises(ValueError):
        ms.instalment_schedule(EUR("100.00"), count, D(2026, 1, 15))


# --- membership states --------------------------------------------------------------------------

SECOND_DUE = D(2026, 2, 15)  # second monthly instalment of a subscription of 15 January
THIRD_DUE = D(2026, 3, 15)


def by_instalments(*payments, instalments=10):
    """10 A shares (100 EUR) subscribed on 15 January 2026 in 10 monthly instalments of 10 EUR."""
    return [sub(instalments=instalments, payments=payments)]


def test_no_subscription_is_membership_none():
    assert status([], JAN15) == ms.NONE


def test_a_subscription_dated_after_the_day_is_not_yet_held():
    subs = [sub(payments=[(JAN15, EUR("100.00"))])]
    assert status(subs, JAN15 - datetime.timedelta(days=1)) == ms.NONE
    assert status(subs, JAN15) == ms.ACTIVE


def test_minimum_paid_in_full_is_active():
    assert status([sub(payments=[(JAN15, EUR("100.00"))])], JAN15) == ms.ACTIVE


def test_full_amount_not_paid_makes_member_unpaid():
    subs = [sub(payments=[(JAN15, EUR("99.99"))])]
    assert status(subs, JAN15) == ms.UNPAID


def test_part_payments_reaching_the_full_amount_make_member_active():
    subs = [sub(payments=[(JAN15, EUR("60.00")), (D(2026, 1, 20), EUR("40.00"))])]
    assert status(subs, D(2026, 1, 19)) == ms.UNPAID
    assert status(subs, D(2026, 1, 20)) == ms.ACTIVE


def test_missed_first_instalment_makes_member_unpaid():
    assert status(by_instalments(), JAN15) == ms.UNPAID


def test_first_instalment_paid_short_makes_member_unpaid():
    assert status(by_instalments((JAN15, EUR("9.99"))), JAN15) == ms.UNPAID


def test_first_instalment_paid_makes_member_active():
    assert status(by_instalments((JAN15, EUR("10.00"))), JAN15) == ms.ACTIVE


def test_instalments_up_to_date_keep_member_active_on_the_due_date():
    assert status(by_instalments((JAN15, EUR("10.00"))), SECOND_DUE) == ms.ACTIVE


def test_instalment_exactly_30_days_late_still_active():
    assert status(by_instalments((JAN15, EUR("10.00"))), SECOND_DUE + datetime.timedelta(days=30)) == ms.ACTIVE


def test_instalment_more_than_30_days_overdue_makes_member_unpaid():
    assert status(by_instalments((JAN15, EUR("10.00"))), SECOND_DUE + datetime.timedelta(days=31)) == ms.UNPAID


def test_paying_the_overdue_instalment_makes_member_active_again_from_its_date():
    paid_late = D(2026, 3, 25)
    subs = by_instalments((JAN15, EUR("10.00")), (paid_late, EUR("10.00")))
    assert status(subs, paid_late - datetime.timedelta(days=1)) == ms.UNPAID
    assert status(subs, paid_late) == ms.ACTIVE


def test_every_overdue_instalment_must_be_paid():
    # On 20 April the 2nd (15 Feb) and 3rd (15 Mar) instalments are both more than 30 days late.
    day = THIRD_DUE + datetime.timedelta(days=31)
    only_second = by_instalments((JAN15, EUR("10.00")), (D(2026, 3, 1), EUR("10.00")))
    both = by_instalments((JAN15, EUR("10.00")), (D(2026, 3, 1), EUR("20.00")))
    assert status(only_second, day) == ms.UNPAID
    assert status(both, day) == ms.ACTIVE


def test_a_payment_dated_after_the_day_does_not_count_yet():
    subs = [sub(payments=[(D(2026, 1, 20), EUR("100.00"))])]
    assert status(subs, D(2026, 1, 19)) == ms.UNPAID


def test_overdue_days_is_a_parameter():
    subs = by_instalments((JAN15, EUR("10.00")))
    assert status(subs, SECOND_DUE + datetime.timedelta(days=10), overdue_days=10) == ms.ACTIVE
    assert status(subs, SECOND_DUE + datetime.timedelta(days=11), overdue_days=10) == ms.UNPAID
    assert status(subs, SECOND_DUE + datetime.timedelta(days=11)) == ms.ACTIVE


def test_membership_defaults_to_30_overdue_days():
    subs = by_instalments((JAN15, EUR("10.00")))
    assert ms.membership_status(subs, left=False, day=SECOND_DUE + datetime.timedelta(days=30)) == ms.ACTIVE
    assert ms.membership_status(subs, left=False, day=SECOND_DUE + datetime.timedelta(days=31)) == ms.UNPAID


def test_a_refund_row_reduces_what_is_paid():
    subs = [sub(payments=[(JAN15, EUR("100.00")), (D(2026, 2, 1), EUR("-100.00"))])]
    assert status(subs, D(2026, 1, 31)) == ms.ACTIVE
    assert status(subs, D(2026, 2, 1)) == ms.UNPAID


def test_only_non_shopping_shares_is_supporting():
    assert status([supporting_sub(payments=[(JAN15, EUR("10.00"))])], JAN15) == ms.SUPPORTING


def test_supporting_shares_do_not_make_a_member_active():
    subs = [supporting_sub(quantity=20, payments=[(JAN15, EUR("200.00"))]), sub(quantity=10, payments=[])]
    assert status(subs, JAN15) == ms.UNPAID


def test_active_cooperator_with_supporting_shares_is_active():
    subs = [supporting_sub(payments=[(JAN15, EUR("10.00"))]), sub(payments=[(JAN15, EUR("100.00"))])]
    assert status(subs, JAN15) == ms.ACTIVE


@pytest.mark.parametrize(
    "subs",
    [
        [],
        [sub(payments=[(JAN15, EUR("100.00"))])],
        [supporting_sub(payments=[(JAN15, EUR("10.00"))])],
        [sub(payments=[])],
    ],
)
def test_a_member_who_left_is_left_whatever_they_hold(subs):
    assert status(subs, JAN15, left=True) == ms.LEFT


def test_below_the_class_minimum_paid_in_full_is_not_active():
    # 1 A share without the low-income flag: minimum 10.
    assert status([sub(quantity=1, minimum=10, payments=[(JAN15, EUR("10.00"))])], JAN15) == ms.UNPAID


def test_low_income_minimum_of_one_share_makes_member_active():
    assert status([sub(quantity=1, minimum=1, payments=[(JAN15, EUR("10.00"))])], JAN15) == ms.ACTIVE


def test_share_class_minimum_for_low_income_is_the_low_income_minimum():
    share_class = ShareClass(code="A", unit_price=EUR("10.00"), min_quantity=10, low_income_min_quantity=1)
    assert share_class.minimum_for(False) == 10
    assert share_class.minimum_for(True) == 1


def test_subscriptions_of_one_class_add_up_to_the_minimum():
    first = sub(quantity=5, payments=[(JAN15, EUR("50.00"))])
    second = sub(quantity=5, subscribed_on=D(2026, 2, 1), payments=[(D(2026, 2, 1), EUR("50.00"))])
    assert status([first, second], D(2026, 1, 31)) == ms.UNPAID
    assert status([first, second], D(2026, 2, 1)) == ms.ACTIVE


def test_an_overdue_extra_subscription_does_not_unpay_a_member_holding_the_paid_minimum():
    paid = sub(payments=[(JAN15, EUR("100.00"))])
    extra = sub(quantity=5, instalments=5, payments=[(JAN15, EUR("10.00"))])
    assert status([paid, extra], D(2026, 6, 1)) == ms.ACTIVE


def test_shares_of_an_overdue_subscription_do_not_count_towards_the_minimum():
    paid = sub(quantity=5, payments=[(JAN15, EUR("50.00"))])
    overdue = sub(quantity=5, instalments=5, payments=[(JAN15, EUR("10.00"))])
    assert status([paid, overdue], JAN15) == ms.ACTIVE
    assert status([paid, overdue], SECOND_DUE + datetime.timedelta(days=31)) == ms.UNPAID


# --- first active date (work start date) --------------------------------------------------------


def test_no_payment_gives_no_first_active_date():
    assert ms.first_active_date([sub(payments=[])]) is None
    assert ms.first_active_date([]) is None


def test_payment_in_full_gives_its_date():
    assert ms.first_active_date([sub(payments=[(JAN15, EUR("100.00"))])]) == JAN15


def test_first_instalment_paid_gives_its_date():
    assert ms.first_active_date(by_instalments((JAN15, EUR("10.00")), (SECOND_DUE, EUR("10.00")))) == JAN15


def test_first_active_date_is_the_payment_that_completes_the_amount():
    subs = [sub(payments=[(JAN15, EUR("40.00")), (D(2026, 2, 3), EUR("60.00"))])]
    assert ms.first_active_date(subs) == D(2026, 2, 3)


def test_payment_recorded_with_an_earlier_real_date_gives_that_date():
    # The balance (70 EUR) was received on 20 January and entered weeks later, before the 30 EUR of
    # 15 January: the member is active from its real date, whatever the ledger order.
    subs = [sub(payments=[(D(2026, 1, 20), EUR("70.00")), (JAN15, EUR("30.00"))])]
    assert ms.first_active_date(subs) == D(2026, 1, 20)


def test_first_active_date_is_when_the_minimum_is_reached_across_subscriptions():
    first = sub(quantity=5, payments=[(JAN15, EUR("50.00"))])
    second = sub(quantity=5, subscribed_on=D(2026, 2, 1), payments=[(D(2026, 2, 1), EUR("50.00"))])
    assert ms.first_active_date([first, second]) == D(2026, 2, 1)


def test_first_active_date_stays_the_first_after_a_lapse():
    subs = by_instalments((JAN15, EUR("10.00")), (D(2026, 5, 1), EUR("30.00")))
    assert status(subs, D(2026, 4, 1)) == ms.UNPAID
    assert ms.first_active_date(subs) == JAN15


def test_supporting_member_has_no_first_active_date():
    assert ms.first_active_date([supporting_sub(payments=[(JAN15, EUR("10.00"))])]) is None


def test_never_reaching_the_minimum_gives_no_first_active_date():
    assert ms.first_active_date([sub(quantity=1, minimum=10, payments=[(JAN15, EUR("10.00"))])]) is None


def test_add_months_clamps_to_the_last_day_of_the_month():
    assert ms.add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert ms.add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)
    assert ms.add_months(D(2026, 3, 31), 1) == D(2026, 4, 30)
    assert ms.add_months(D(2026, 12, 15), 1) == D(2027, 1, 15)
    assert ms.add_months(D(2026, 5, 31), 0) == D(2026, 5, 31)
