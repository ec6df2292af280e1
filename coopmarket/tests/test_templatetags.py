"""The shared template filters: amounts in the reader's language, share class labels, e-mails."""
from decimal import Decimal

import pytest
from django.utils import translation

from coopmarket.templatetags.coop import email_wbr, euros, share_label

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("en", Decimal("12.5"), f"12.50{NBSP}€"),
        ("en", Decimal("1234.5"), f"1,234.50{NBSP}€"),
        ("fr", Decimal("12.5"), f"12,50{NBSP}€"),
        ("fr", Decimal("1234.5"), f"1{NBSP}234,50{NBSP}€"),
        ("fr", Decimal("-80"), f"-80,00{NBSP}€"),
        ("fr", None, ""),
    ],
)
def test_euros_follow_the_active_language(language, value, expected):
    with translation.override(language):
        assert euros(value) == expected


@pytest.mark.parametrize(
    ("code", "name", "expected"),
    [
        ("A", "Parts A – coopérateur", "Parts A – coopérateur"),
        ("B", "Supporting shares", "B – Supporting shares"),
        ("A", "Parts Alpha", "A – Parts Alpha"),
        ("C", "", "C"),
    ],
)
def test_share_label_names_the_class_once(code, name, expected):
    assert share_label(code, name) == expected


def test_email_wraps_only_at_its_separators_and_stays_escaped():
    assert email_wbr("ann.lee@example.org") == "ann<wbr>.lee@<wbr>example<wbr>.org"
    assert "<b>" not in email_wbr("<b>@x.org")
