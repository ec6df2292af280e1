"""The interchange files of CONTRACT.md §7: their columns and how each cell is read. Pure.

A cell is text; empty means "not given". Each column has a kind that says how its text is read
(ISO dates, HH:MM times, integers, decimals with a dot, 0/1, a fixed list of choices) and, for
text, the most characters the database keeps.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text, date, time, int, decimal, bool, choice
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


def _c(name, kind="text", **kw) -> Column:
    return Column(name, kind, **kw)


WEEKS = ("A", "B", "C", "D")
PAYMENT_METHODS = ("cash", "cheque", "transfer", "card")

FILES: dict[str, tuple[Column, ...]] = {
    "templates.csv": (
        _c("name", required=True, max_length=100),
        _c("week", "choice", required=True, choices=WEEKS),
        _c("weekday", "int", required=True, minimum=0, maximum=6),
        _c("start_time", "time", required=True),
        _c("end_time", "time", required=True),
        _c("capacity", "int", required=True, minimum=1, maximum=1000),
        _c("requirements", max_length=1000),
        _c("welcome", "bool"),
    ),
    "members.csv": (
        _c("member_number", "int", minimum=1, maximum=99_999_999),
        _c("first_name", required=True, max_length=100),
        _c("last_name", required=True, max_length=100),
        _c("email", required=True, max_length=254),
        _c("phone", max_length=32),
        _c("address", max_length=255),
        _c("postal_code", max_length=16),
        _c("city", max_length=100),
        _c("joined_on", "date", required=True),
        _c("shift_type", "choice", required=True, choices=("standard", "ftop")),
        _c("low_income", "bool"),
        _c("card_barcode", max_length=13),
        _c("work_start_date", "date"),
        _c("slot_template", max_length=100),
        _c("slot_week", "choice", choices=WEEKS),
        _c("slot_weekday", "int", minimum=0, maximum=6),
        _c("slot_start_time", "time"),
        _c("slot_start_date", "date"),
        _c("counter_standard", "int", minimum=-100, maximum=100),
        _c("counter_ftop", "int", minimum=-100, maximum=100),
        _c("alert_started_on", "date"),
        _c("left_on", "date"),
        _c("unsubscribed", "bool"),
        _c("welcomed_on", "date"),
        _c("blocked_reason", max_length=2000),
        _c("notes", max_length=10000),
        _c("birth_date", "date"),
    ),
    "shares.csv": (
        _c("member_number", "int", required=True, minimum=1, maximum=99_999_999),
        _c("share_class", required=True, max_length=8),
        _c("quantity", "int", required=True, minimum=1, maximum=100_000),
        _c("subscribed_on", "date", required=True),
        _c("instalments", "int", minimum=1, maximum=36),
        _c("amount_paid", "decimal", minimum=0),
        _c("paid_on", "date"),
        _c("payment_method", "choice", choices=PAYMENT_METHODS),
        _c("reference", max_length=255),
    ),
    "payments.csv": (
        _c("member_number", "int", required=True, minimum=1, maximum=99_999_999),
        _c("share_class", required=True, max_length=8),
        _c("subscribed_on", "date", required=True),
        _c("amount", "decimal", required=True),
        _c("paid_on", "date", required=True),
        _c("payment_method", "choice", required=True, choices=PAYMENT_METHODS),
        _c("reference", max_length=255),
    ),
    "associates.csv": (
        _c("member_number", "int", required=True, minimum=1, maximum=99_999_999),
        _c("first_name", required=True, max_length=100),
        _c("last_name", required=True, max_length=100),
        _c("card_barcode", max_length=13),
    ),
    "absences.csv": (
        _c("member_number", "int", required=True, minimum=1, maximum=99_999_999),
        _c("kind", "choice", required=True, choices=("leave", "exemption")),
        _c("start", "date", required=True),
        _c("end", "date"),
        _c("reason", max_length=2000),
    ),
    "extensions.csv": (
        _c("member_number", "int", required=True, minimum=1, maximum=99_999_999),
        _c("granted_on", "date", required=True),
        _c("start", "date", required=True),
        _c("end", "date", required=True),
        _c("reason", max_length=2000),
    ),
    "qualifications.csv": (
        _c("member_number", "int", required=True, minimum=1, maximum=99_999_999),
        _c("qualification", required=True, max_length=32),
        _c("since", "date", required=True),
        _c("until", "date"),
    ),
}
REQUIRED_FILES = ("templates.csv", "members.csv", "shares.csv", "associates.csv", "absences.csv")
OPTIONAL_FILES = ("payments.csv", "extensions.csv", "qualifications.csv")
assert set(FILES) == {*REQUIRED_FILES, *OPTIONAL_FILES}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")
_INT = re.compile(r"^[+-]?\d{1,12}$")
_DECIMAL = re.compile(r"^[+-]?\d{1,12}(\.\d{1,2})?$")


class CellError(ValueError):
    """The text of a cell cannot be read as its column says."""


def parse_cell(column: Column, text: str):
    """The value of a non-empty cell, or CellError with a message for people."""
    if column.max_length is not None and len(text) > column.max_length:
        raise CellError(_("At most %(n)d characters (this one has %(len)d).") % {"n": column.max_length, "len": len(text)})
    kind = column.kind
    if kind == "text":
        return text
    if kind == "choice":
        if text not in column.choices:
            raise CellError(_("Expected one of %(choices)s, got “%(value)s”.") % {"choices": ", ".join(column.choices), "value": text[:40]})
        return text
    if kind == "bool":
        if text not in ("0", "1"):
            raise CellError(_("Expected 0 or 1, got “%(value)s”.") % {"value": text[:40]})
        return text == "1"
    if kind == "date":
        try:
            if not _DATE.match(text):
                raise ValueError
            value = datetime.date.fromisoformat(text)
        except ValueError:
            raise CellError(_("Expected a date YYYY-MM-DD, got “%(value)s”.") % {"value": text[:40]}) from None
        if value.year < 1900:
            raise CellError(_("A date before 1900 is not plausible."))
        return value
    if kind == "time":
        match = _TIME.match(text)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise CellError(_("Expected a time HH:MM, got “%(value)s”.") % {"value": text[:40]})
        return datetime.time(int(match[1]), int(match[2]))
    if kind == "int":
        if not _INT.match(text):
            raise CellError(_("Expected a whole number, got “%(value)s”.") % {"value": text[:40]})
        value = int(text)
    elif kind == "decimal":
        if not _DECIMAL.match(text):
            raise CellError(_("Expected an amount such as 100.00 (a dot, at most two decimals), got “%(value)s”.") % {"value": text[:40]})
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise CellError(_("Expected an amount such as 100.00.")) from None
    else:  # pragma: no cover - a mistake in FILES
        raise ValueError(f"unknown column kind {kind!r}")
    if column.minimum is not None and value < column.minimum:
        raise CellError(_("At least %(n)s.") % {"n": column.minimum})
    if column.maximum is not None and value > column.maximum:
        raise CellError(_("At most %(n)s.") % {"n": column.maximum})
    return value


def format_cell(value) -> str:
    """A value as the files write it (the inverse of parse_cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.datetime):  # pragma: no cover - the files hold dates, not datetimes
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)
