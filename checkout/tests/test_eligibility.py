"""DOMAIN.md §6: every reason and warning code, their order, and the colours (pure function)."""
import datetime

import pytest

from checkout import eligibility as el

DEADLINE = datetime.date(2026, 3, 12)


def standing(**kw):
    base = dict(membership="active", status="up_to_date", blocked=False)
    return el.Standing(**{**base, **kw})


@pytest.mark.parametrize("status", ["up_to_date", "exempted", "not_concerned"])
def test_active_member_in_a_shopping_status_is_green(status):
    decision = el.decide(standing(status=status))
    assert (decision.can_shop, decision.reasons, decision.warnings, decision.colour) == (True, (), (), "green")


@pytest.mark.parametrize(
    ("membership", "status", "blocked", "reasons"),
    [
        ("left", "not_concerned", False, ("left_coop",)),
        ("none", "not_concerned", False, ("shares_missing",)),
        ("supporting", "not_concerned", False, ("shares_missing",)),
        ("unpaid", "up_to_date", False, ("shares_unpaid",)),
        ("active", "blocked", True, ("blocked",)),
        ("active", "not_concerned", True, ("blocked",)),
        ("active", "unsubscribed", False, ("unsubscribed",)),
        ("active", "on_leave", False, ("on_leave",)),
        ("active", "suspended", False, ("suspended",)),
        ("unpaid", "suspended", False, ("shares_unpaid", "suspended")),
        ("unpaid", "blocked", True, ("shares_unpaid", "blocked")),
        ("unpaid", "on_leave", False, ("shares_unpaid", "on_leave")),
        ("unpaid", "unsubscribed", False, ("shares_unpaid", "unsubscribed")),
    ],
)
def test_refusals_give_every_reason_that_applies_in_domain_order(membership, status, blocked, reasons):
    decision = el.decide(standing(membership=membership, status=status, blocked=blocked))
    assert decision.can_shop is False
    assert decision.reasons == reasons
    assert decision.colour == "red"
    assert list(decision.reasons) == sorted(decision.reasons, key=el.REASONS.index)


def test_alert_is_allowed_with_a_warning_carrying_makeups_and_deadline():
    decision = el.decide(standing(status="alert", makeups_owed=2, alert_deadline=DEADLINE))
    assert decision.can_shop is True
    assert decision.warnings == ({"code": "alert", "makeups_owed": 2, "deadline": DEADLINE},)
    assert decision.colour == "orange"


def test_delay_is_allowed_with_a_warning_carrying_its_end():
    decision = el.decide(standing(status="delay", makeups_owed=1, delay_until=DEADLINE))
    assert decision.warnings == ({"code": "delay", "until": DEADLINE},)
    assert decision.colour == "orange"


def test_unpaid_member_in_alert_gets_no_warning_but_a_refusal():
    decision = el.decide(standing(membership="unpaid", status="alert", makeups_owed=1, alert_deadline=DEADLINE))
    assert (decision.can_shop, decision.reasons, decision.warnings) == (False, ("shares_unpaid",), ())


def test_messages_say_who_what_and_what_to_do(settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"):
        assert el.message(el.decide(standing()), "Camille L.") == "Camille L. may shop."
        text = el.message(el.decide(standing(status="alert", makeups_owed=2, alert_deadline=DEADLINE)), "Camille L.")
        assert text == "Camille L. may shop, but owes 2 make-ups before 12 March."
        text = el.message(el.decide(standing(status="suspended")), "Camille L.")
        assert text.startswith("Camille L. may not shop: is suspended for missed shifts.")
        assert "make-up" in text


def test_french_message(settings):
    from django.utils import translation

    with translation.override("fr"):
        text = el.message(el.decide(standing(status="suspended")), "Camille L.")
    assert "Camille L." in text and "may not" not in text


def test_display_name_is_first_name_and_initial():
    assert el.display_name("Hélène", "Dupré") == "Hélène D."
    assert el.display_name("Hélène", "") == "Hélène"
