"""Checking the interchange files against the coop's rules and its database, and planning the
writes (CONTRACT.md §7). Reads only: the writes are `interchange.services`' job.

Every invalid cell or row becomes one problem `file:line: column: message`; checking goes on to
the end, so the report lists every invalid row, not only the first. Rows match members already in
the database by member number, else by e-mail: for them, only what is not there yet is planned
(contact fields that changed, shares, associates, absences and extensions not yet recorded), and
every other difference is a warning, never a silent change.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from members import selectors as member_selectors
from members.barcodes import format_member_number
from members.models import CoopParameters
from members.services import card_barcode_errors
from members.text import search_key
from shifts import selectors as shift_selectors

from .formats import FILES, REQUIRED_FILES, CellError, parse_cell
from .reader import Source
from .report import Report

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "address", "postal_code", "city", "notes", "birth_date")


def not_yet() -> str:
    return _("not imported yet: qualifications and welcome sessions arrive with issue 14")


@dataclass
class Row:
    file: str
    line: int
    values: dict
    bad: set = field(default_factory=set)  # columns whose cells could not be read

    def get(self, name, default=None):
        return self.values.get(name, default)


@dataclass
class TemplateRef:
    """A template a slot names: one already in the database, or one templates.csv creates."""

    name: str
    week: str
    weekday: int
    start_time: datetime.time
    template: object = None  # the ShiftTemplate, once it exists
    line: int | None = None  # templates.csv line of a new template
    capacity: int = 0


@dataclass
class MemberPlan:
    row: Row
    number: int | None
    existing: object = None  # the Member already in the database
    fields: dict = field(default_factory=dict)  # for members_import (new members)
    contact: dict = field(default_factory=dict)  # changed contact fields (existing members)
    slot: tuple | None = None  # (TemplateRef, start_date)
    opening: dict | None = None
    left_on: datetime.date | None = None


@dataclass
class Plan:
    today: datetime.date
    templates_new: list[tuple[Row, TemplateRef, dict]] = field(default_factory=list)
    templates_changed: list[tuple[Row, object, dict]] = field(default_factory=list)
    members: list[MemberPlan] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)  # {row, number, share_class, quantity, instalments, subscribed_on, payments}
    payments_existing: list[dict] = field(default_factory=list)  # payments for subscriptions already recorded
    associates: list[dict] = field(default_factory=list)
    absences: list[dict] = field(default_factory=list)
    extensions: list[dict] = field(default_factory=list)
    qualifications: list[dict] = field(default_factory=list)

    def by_number(self) -> dict[int, MemberPlan]:
        return {m.number: m for m in self.members if m.number is not None}


class Planner:
    def __init__(self, source: Source, *, today: datetime.date, report: Report):
        self.source = source
        self.today = today
        self.report = report
        self.plan = Plan(today=today)
        self.params = CoopParameters.current()

    # --- cells ---------------------------------------------------------------------------------

    def error(self, row_or_file, line, column, message):
        if isinstance(row_or_file, Row):
            self.report.error(row_or_file.file, row_or_file.line, column, message)
        else:
            self.report.error(row_or_file, line, column, message)

    def warn(self, row: Row, column: str, message: str) -> None:
        self.report.warn(row.file, row.line, column, message)

    def rows(self, name: str) -> list[Row]:
        """The rows of one file, each cell read as its column says; problems reported."""
        sheet = self.source.sheets.get(name)
        if sheet is None:
            if name in REQUIRED_FILES and name not in self.source.unreadable:
                self.report.error(name, None, "-", _("Missing file (give at least its header row)."))
            return []
        columns = {c.name: c for c in FILES[name]}
        header = set(sheet.header)
        for column in FILES[name]:
            if column.required and column.name not in header:
                self.report.error(name, 1, column.name, _("Missing required column."))
        unknown = [c for c in sheet.header if c not in columns]
        for column in unknown:
            used = sum(1 for _line, values in sheet.rows if values.get(column))
            if used:
                self.report.error(name, 1, column or "-", _(
                    "Unknown column (with values on %(n)d rows): the columns of %(file)s are %(columns)s."
                ) % {"n": used, "file": name, "columns": ", ".join(columns)})
        self.report.rows[name] = len(sheet.rows)
        rows = []
        for line, values in sheet.rows:
            row = Row(name, line, {})
            for column in FILES[name]:
                text = values.get(column.name)
                if text is None:
                    if column.required and column.name in header:
                        self.error(row, None, column.name, _("Required."))
                        row.bad.add(column.name)
                    continue
                try:
                    row.values[column.name] = parse_cell(column, text)
                except CellError as exc:
                    self.error(row, None, column.name, str(exc))
                    row.bad.add(column.name)
            rows.append(row)
        return rows

    # --- the whole plan ------------------------------------------------------------------------

    def run(self) -> Plan:
        for name in self.source.sheets:
            if name not in FILES:  # pragma: no cover - the reader keeps only known files
                self.report.warn(name, None, "-", _("Not an interchange file: ignored."))
        for name in self.source.ignored:
            self.report.warn(name, None, "-", _("Not an interchange file: ignored."))
        self.share_classes = {sc.code: sc for sc in member_selectors.share_classes_all()}
        self.templates()
        self.members()
        self.shares()
        self.associates()
        self.absences()
        self.extensions()
        self.qualifications()
        self.slot_capacity()
        return self.plan

    # --- templates.csv -------------------------------------------------------------------------

    def templates(self) -> None:
        db = shift_selectors.templates_for_import(today=self.today)
        self.db_templates = db
        self.template_refs: list[TemplateRef] = []
        self.holders = {t.pk: t.holders for t in db}
        by_name: dict[str, list] = {}
        for template in db:
            by_name.setdefault(search_key(template.name), []).append(template)
        seen: dict[str, int] = {}
        file_refs: set[int] = set()
        for row in self.rows("templates.csv"):
            name = row.get("name")
            if name is None:
                continue
            key = search_key(name)
            if key in seen:
                self.error(row, None, "name", _("Template names are unique: line %(line)d has this name.") % {"line": seen[key]})
                continue
            seen[key] = row.line
            if row.bad:
                continue
            if row.get("end_time") <= row.get("start_time"):
                self.error(row, None, "end_time", _("A shift ends after it starts, on the same day."))
                continue
            self.requirements(row)
            fields = {k: row.get(k) for k in ("week", "weekday", "start_time", "end_time", "capacity")}
            matches = by_name.get(key, [])
            if len(matches) > 1:
                self.error(row, None, "name", _("Several templates of the database have this name: rename them first."))
                continue
            if matches:
                template = matches[0]
                changed = {k: v for k, v in fields.items() if getattr(template, k) != v}
                if template.name != name:
                    changed["name"] = name
                if changed:
                    self.plan.templates_changed.append((row, template, changed))
                ref = TemplateRef(name, row.get("week"), row.get("weekday"), row.get("start_time"), template=template)
                file_refs.add(template.pk)
            else:
                ref = TemplateRef(name, row.get("week"), row.get("weekday"), row.get("start_time"), line=row.line)
                self.plan.templates_new.append((row, ref, {"name": name, **fields}))
                self.holders[id(ref)] = 0
            ref.capacity = row.get("capacity")
            self.template_refs.append(ref)
        for template in db:
            if template.pk not in file_refs:
                ref = TemplateRef(template.name, template.week, template.weekday, template.start_time, template=template)
                ref.capacity = template.capacity
                self.template_refs.append(ref)

    def requirements(self, row: Row) -> None:
        """`leader:1;cashier:2`: seats per qualification (read and checked; kept for issue 14)."""
        text = row.get("requirements")
        if text:
            total = 0
            for part in text.split(";"):
                code, _sep, seats = part.strip().partition(":")
                if not code.strip() or not seats.strip().isdigit() or int(seats) < 1:
                    self.error(row, None, "requirements", _("Write the seats per qualification as leader:1;cashier:2."))
                    return
                total += int(seats)
            if row.get("capacity") and total > row.get("capacity"):
                self.error(row, None, "requirements", _("More qualified seats than the capacity."))
                return
            self.warn(row, "requirements", not_yet())
        if row.get("welcome"):
            self.warn(row, "welcome", not_yet())

    def template_for(self, row: Row) -> TemplateRef | None:
        """The template a members.csv row names (slot_template, or slot_week/weekday/start_time)."""
        name = row.get("slot_template")
        parts = [row.get(k) for k in ("slot_week", "slot_weekday", "slot_start_time")]
        if name is None and all(p is None for p in parts):
            return None
        if name is not None:
            found = [r for r in self.template_refs if search_key(r.name) == search_key(name)]
            if not found:
                self.error(row, None, "slot_template", _("Unknown template: name one of templates.csv or of the database."))
                return None
            if len(found) > 1:
                self.error(row, None, "slot_template", _("Several templates have this name: give slot_week, slot_weekday and slot_start_time."))
                return None
            ref = found[0]
            given = dict(zip(("week", "weekday", "start_time"), parts, strict=True))
            for key, value in given.items():
                if value is not None and getattr(ref, key) != value:
                    self.error(row, None, f"slot_{key}", _("This does not match the template named in slot_template."))
                    return None
            return ref
        if any(p is None for p in parts):
            self.error(row, None, "slot_template", _("Name the template, or give slot_week, slot_weekday and slot_start_time together."))
            return None
        week, weekday, start = parts
        found = [r for r in self.template_refs if (r.week, r.weekday, r.start_time) == (week, weekday, start)]
        if len(found) != 1:
            self.error(row, None, "slot_week", _("No template starts then.") if not found else _("Several templates start then: name one in slot_template."))
            return None
        return found[0]

    # --- members.csv ---------------------------------------------------------------------------

    def members(self) -> None:
        rows = self.rows("members.csv")
        numbers = [r.get("member_number") for r in rows if r.get("member_number")]
        emails = [r.get("email") for r in rows if r.get("email")]
        self.db_by_number, self.db_by_email = member_selectors.members_matching(numbers=numbers, emails=emails)
        cards = [r.get("card_barcode") for r in rows if r.get("card_barcode")]
        self.associate_rows = self.rows("associates.csv")
        cards += [r.get("card_barcode") for r in self.associate_rows if r.get("card_barcode")]
        self.cards_held = member_selectors.cards_held(cards)
        self.cards_seen: dict[str, Row] = {}
        existing_ids = []
        seen_numbers: dict[int, int] = {}
        seen_emails: dict[str, int] = {}
        for row in rows:
            number, email = row.get("member_number"), row.get("email")
            if number is not None:
                if number in seen_numbers:
                    self.error(row, None, "member_number", _("Duplicate member number (line %(line)d).") % {"line": seen_numbers[number]})
                    continue
                seen_numbers[number] = row.line
            if email is not None:
                try:
                    validate_email(email)
                except ValidationError:
                    self.error(row, None, "email", _("Enter a valid e-mail address."))
                    row.bad.add("email")
                else:
                    if email.lower() in seen_emails:
                        self.error(row, None, "email", _("Duplicate e-mail address (line %(line)d).") % {"line": seen_emails[email.lower()]})
                        continue
                    seen_emails[email.lower()] = row.line
            plan = self.member(row)
            if plan is not None:
                self.plan.members.append(plan)
                if plan.existing is not None:
                    existing_ids.append(plan.existing.pk)
        self.number_new_members()
        self.existing_ledgers, self.existing_associates = member_selectors.ledgers_of(existing_ids)
        self.existing_standings = shift_selectors.standings_of(existing_ids)
        for plan in self.plan.members:
            if plan.existing is not None:
                self.compare_existing(plan)

    def number_new_members(self) -> None:
        """New members without a number get the next ones after the highest ever issued or
        imported (the file's included), in file order: numbers never depend on batches."""
        given = [p.number for p in self.plan.members if p.number is not None]
        following = max([member_selectors.sequence_value("member"), *given]) + 1
        for plan in self.plan.members:
            if plan.existing is None and plan.number is None and plan.fields:
                plan.number = plan.fields["member_number"] = following
                following += 1

    def match(self, row: Row):
        """The member already in the database this row stands for, or None; False when the row
        contradicts the database (reported)."""
        number, email = row.get("member_number"), row.get("email")
        by_number = self.db_by_number.get(number) if number is not None else None
        by_email = self.db_by_email.get(email.lower()) if email and "email" not in row.bad else None
        if by_number is not None:
            if by_email is not None and by_email.pk != by_number.pk:
                self.error(row, None, "email", _("Member %(other)s already uses this e-mail address.") % {"other": by_email.display_number})
                return False
            if email and email.lower() != by_number.email.lower() and row.get("last_name") and \
                    search_key(row.get("last_name")) != search_key(by_number.last_name):
                self.error(row, None, "member_number", _(
                    "Member %(number)s of the database is %(name)s <%(email)s>: this row names someone else."
                ) % {"number": by_number.display_number, "name": by_number.full_name, "email": by_number.email})
                return False
            return by_number
        if by_email is not None:
            if number is not None:
                self.error(row, None, "email", _(
                    "This e-mail address belongs to member %(other)s: give that number, or leave member_number empty."
                ) % {"other": by_email.display_number})
                return False
            return by_email
        return None

    def card(self, row: Row, *, member_number: int | None, associate: bool, owner=None) -> str | None:
        """A given card barcode, checked: a valid EAN-13 of the right kind, held by nobody else."""
        code = row.get("card_barcode")
        if code is None or "card_barcode" in row.bad:
            return None
        if associate or member_number is not None:
            problem = card_barcode_errors(code, member_number=member_number, associate=associate)
        elif code.startswith("0420"):
            problem = _("A code starting 0420 is the card of the member whose number it carries: give member_number.")
        else:
            problem = card_barcode_errors(code, member_number=None, associate=False)
        if problem:
            self.error(row, None, "card_barcode", problem)
            return None
        if code in self.cards_seen:
            other = self.cards_seen[code]
            self.error(row, None, "card_barcode", _("Duplicate card barcode (%(file)s line %(line)d).") % {"file": other.file, "line": other.line})
            return None
        self.cards_seen[code] = row
        holder = self.cards_held.get(code)
        if holder is not None and (owner is None or holder != owner.pk):
            self.error(row, None, "card_barcode", _("Another member or associate already holds this card."))
            return None
        return code

    def member(self, row: Row) -> MemberPlan | None:
        existing = self.match(row)
        if existing is False:  # reported; kept so that its other rows are not reported as orphans
            return MemberPlan(row=row, number=row.get("member_number"))
        number = row.get("member_number") or (existing.member_number if existing is not None else None)
        plan = MemberPlan(row=row, number=number, existing=existing)
        today = self.today
        joined_on, left_on = row.get("joined_on"), row.get("left_on")
        if joined_on and joined_on > today:
            self.error(row, None, "joined_on", _("The joining date cannot be in the future."))
        if left_on and ((joined_on and left_on < joined_on) or left_on > today):
            self.error(row, None, "left_on", _("The leaving date is between the joining date and today."))
        plan.left_on = left_on or (existing.left_on if existing is not None else None)
        card = self.card(row, member_number=number, associate=False, owner=existing)
        standard = row.get("shift_type") == "standard"
        counter_std, counter_ftop = row.get("counter_standard", 0), row.get("counter_ftop", 0)
        if counter_std > 0:
            self.error(row, None, "counter_standard", _("The standard counter is never above 0 (banked shifts go to counter_ftop)."))
        applies = counter_std if standard else counter_ftop
        episode = row.get("alert_started_on")
        if episode is not None:
            if episode > today:
                self.error(row, None, "alert_started_on", _("The alert episode cannot start in the future."))
            elif joined_on and episode < joined_on:
                self.error(row, None, "alert_started_on", _("The alert episode cannot start before the member joined."))
            elif applies >= 0:
                self.warn(row, "alert_started_on", _("Ignored: the counter that applies is not below 0."))
        ref = self.template_for(row)
        if ref is not None:
            if not standard:
                self.error(row, None, "slot_template", _("Only standard members hold a regular slot."))
            elif left_on:
                self.error(row, None, "slot_template", _("A member who left holds no regular slot."))
            elif row.get("unsubscribed"):
                self.error(row, None, "slot_template", _("An unsubscribed member holds no regular slot."))
            else:
                plan.slot = (ref, row.get("slot_start_date") or today)
        elif row.get("slot_start_date") is not None:
            self.error(row, None, "slot_start_date", _("A slot start date needs a slot."))
        if row.get("welcomed_on") is not None:
            self.warn(row, "welcomed_on", not_yet())
        if existing is not None:
            plan.contact = {
                name: row.get(name) for name in CONTACT_FIELDS
                if row.get(name) is not None and name not in row.bad and row.get(name) != getattr(existing, name)
            }
            if plan.contact and existing.left_on is not None:
                self.warn(row, next(iter(plan.contact)), _("This member has left the coop: their details are not updated."))
                plan.contact = {}
            return plan
        if standard and ref is None and not left_on and not row.get("unsubscribed"):
            self.warn(row, "slot_template", _(
                "A standard member without a regular slot is unsubscribed once %(n)d days have passed since their work start date."
            ) % {"n": self.params.no_slot_grace_days})
        if row.bad:
            return plan
        plan.fields = {
            "member_number": row.get("member_number"), "card_barcode": card,
            **{name: row.get(name) for name in ("first_name", "last_name", "email", "phone", "address", "postal_code", "city",
                                                "notes", "birth_date", "joined_on", "shift_type", "work_start_date",
                                                "left_on", "blocked_reason")},
            "low_income": row.get("low_income", False),
        }
        plan.opening = {
            "standard": counter_std, "ftop": counter_ftop,
            "episode_start": episode if episode is not None and applies < 0 else None,
            "unsubscribed": bool(row.get("unsubscribed")) and not left_on,
        }
        return plan

    def compare_existing(self, plan: MemberPlan) -> None:
        """A member already there: differences an import does not apply are reported."""
        member, row = plan.existing, plan.row
        facts = self.existing_standings.get(member.pk, {})
        keep = _("an import does not change it (use the member's page)")
        checks = {
            "shift_type": member.shift_type, "low_income": member.low_income, "joined_on": member.joined_on,
            "card_barcode": member.card_barcode, "work_start_date": member.work_start_date, "left_on": member.left_on,
            "blocked_reason": member.blocked_reason or None,
        }
        for name, current in checks.items():
            given = row.get(name)
            if given is not None and name not in row.bad and given != current and not (name == "low_income" and not given and not current):
                self.warn(row, name, _("Differs from the database (%(value)s): %(keep)s.") % {"value": current if current not in (None, "") else "-", "keep": keep})
        opening = facts.get("opening")
        given = (row.get("counter_standard", 0), row.get("counter_ftop", 0))
        compared = opening if opening is not None else (member.counter_standard, member.counter_ftop)
        if (row.get("counter_standard") is not None or row.get("counter_ftop") is not None) and given != compared:
            self.warn(row, "counter_standard", _("The counters differ from the database (%(s)d, %(f)d): %(keep)s.") % {
                "s": compared[0], "f": compared[1], "keep": keep})
        if plan.slot is not None:
            ref = plan.slot[0]
            if ref.template is None or ref.template.pk != facts.get("slot"):
                self.warn(row, "slot_template", _("Differs from the member's regular slot: %(keep)s.") % {"keep": keep})
            plan.slot = None

    # --- shares.csv and payments.csv -----------------------------------------------------------

    def member_of(self, row: Row) -> MemberPlan | None:
        number = row.get("member_number")
        if number is None:
            return None
        plan = self.members_by_number.get(number)
        if plan is None and "members.csv" in self.source.sheets:
            self.error(row, None, "member_number", _("No member %(number)s in members.csv.") % {"number": format_member_number(number)})
        return plan

    def shares(self) -> None:
        self.members_by_number = self.plan.by_number()
        payments: dict[tuple, list[Row]] = {}
        for row in self.rows("payments.csv"):
            if row.bad:
                continue
            amount = row.get("amount")
            if amount == 0:
                self.error(row, None, "amount", _("An amount is not zero."))
                continue
            if row.get("paid_on") > self.today:
                self.error(row, None, "paid_on", _("A payment cannot be dated in the future."))
                continue
            payments.setdefault((row.get("member_number"), row.get("share_class"), row.get("subscribed_on")), []).append(row)
        claimed: set[tuple] = set()
        subs_by_key: dict[tuple, list[dict]] = {}
        first_by_class: dict[tuple, dict] = {}
        for row in self.rows("shares.csv"):
            plan = self.member_of(row)
            share_class = self.share_classes.get(row.get("share_class")) if row.get("share_class") else None
            if row.get("share_class") and share_class is None:
                self.error(row, None, "share_class", _("Unknown share class: the classes are %(codes)s.") % {"codes": ", ".join(self.share_classes)})
            if plan is None or share_class is None or row.bad:
                continue
            instalments = row.get("instalments", 1)
            if instalments > self.params.max_instalments:
                self.error(row, None, "instalments", _("Choose between 1 and %(max)d instalments.") % {"max": self.params.max_instalments})
                continue
            subscribed_on = row.get("subscribed_on")
            if subscribed_on > self.today:
                self.error(row, None, "subscribed_on", _("A subscription cannot be dated in the future."))
                continue
            amount = share_class.unit_price * row.get("quantity")
            key = (plan.number, share_class.code, subscribed_on)
            sub = {"row": row, "plan": plan, "share_class": share_class, "quantity": row.get("quantity"),
                   "instalments": instalments, "subscribed_on": subscribed_on, "amount": amount, "payments": []}
            if key in payments:
                claimed.add(key)
                if row.get("amount_paid") is not None or row.get("paid_on") is not None:
                    self.warn(row, "amount_paid", _("payments.csv gives the payments of this subscription: amount_paid and paid_on are not read."))
            else:
                paid = row.get("amount_paid", amount)
                paid_on = row.get("paid_on", subscribed_on)
                if paid > amount:
                    self.error(row, None, "amount_paid", _("More than the subscription's amount (%(amount)s).") % {"amount": amount})
                    continue
                if paid_on < subscribed_on or paid_on > self.today:
                    self.error(row, None, "paid_on", _("A payment is dated between its subscription and today."))
                    continue
                if paid > 0:
                    sub["payments"].append((paid_on, paid, row.get("payment_method", "transfer"), row.get("reference", ""), row))
            subs_by_key.setdefault(key, []).append(sub)
            if share_class.grants_shopping and plan.existing is None:
                first = first_by_class.get((plan.number, share_class.code))
                if first is None or subscribed_on < first["subscribed_on"]:
                    first_by_class[(plan.number, share_class.code)] = sub
        for key, rows in payments.items():
            if key not in subs_by_key:
                for row in rows:
                    if self.members_by_number.get(key[0]) is None:
                        self.member_of(row)
                    else:
                        self.error(row, None, "subscribed_on", _("No subscription in shares.csv for this member, class and date."))
                continue
            self.spread_payments(subs_by_key[key], sorted(rows, key=lambda r: (r.get("paid_on"), r.line)))
        for (number, code), sub in first_by_class.items():
            plan = self.members_by_number[number]
            minimum = sub["share_class"].minimum_for(bool(plan.row.get("low_income")))
            if sub["quantity"] < minimum:
                self.warn(sub["row"], "quantity", _(
                    "A first subscription to class %(code)s below its minimum (%(min)d): the member is unpaid until they hold it."
                ) % {"code": code, "min": minimum})
        for subs in subs_by_key.values():
            for sub in subs:
                self.subscription(sub)

    def spread_payments(self, subs: list[dict], rows: list[Row]) -> None:
        """The payments of one (member, class, date): to its subscription, or, when several were
        made that day, filling them in file order."""
        for row in rows:
            if row.get("paid_on") < subs[0]["subscribed_on"]:
                self.error(row, None, "paid_on", _("A payment cannot be dated before its subscription."))
                continue
            amount = row.get("amount")
            if amount < 0 and subs[0]["plan"].left_on is None:
                self.error(row, None, "amount", _("A negative amount is the redemption of a member who left."))
                continue
            target = next((s for s in subs if sum(p[1] for p in s["payments"]) + amount <= s["amount"]), None)
            if amount < 0:
                target = next((s for s in reversed(subs) if sum(p[1] for p in s["payments"]) + amount >= 0), None)
            if target is None:
                self.error(row, None, "amount", _("This would overpay the subscription (or refund more than was paid)."))
                continue
            target["payments"].append((row.get("paid_on"), amount, row.get("payment_method"), row.get("reference", ""), row))

    def subscription(self, sub: dict) -> None:
        plan = sub["plan"]
        if plan.existing is None:
            self.plan.subscriptions.append(sub)
            return
        known = [s for s in self.existing_ledgers.get(plan.existing.pk, [])
                 if (s.share_class.code, s.subscribed_on, s.quantity) == (sub["share_class"].code, sub["subscribed_on"], sub["quantity"])]
        if not known:
            if plan.existing.left_on is not None:
                self.error(sub["row"], None, "member_number", _("This member has left the coop: no new shares."))
                return
            self.plan.subscriptions.append(sub)
            return
        recorded = {(p.paid_on, p.signed_amount) for s in known for p in s.payments.all()}
        for paid_on, amount, method, reference, row in sub["payments"]:
            if (paid_on, amount) not in recorded:
                if amount < 0:
                    self.warn(row, "amount", _("Not imported: record redemptions on the redemptions page."))
                    continue
                self.plan.payments_existing.append({"row": row, "subscription": known[0], "amount": amount, "paid_on": paid_on,
                                                    "method": method, "reference": reference})

    # --- associates.csv ------------------------------------------------------------------------

    def associates(self) -> None:
        per_member: dict[int, int] = {}
        for row in self.associate_rows:
            plan = self.member_of(row)
            if plan is None or row.bad:
                continue
            owner = plan.existing
            card = self.card(row, member_number=None, associate=True, owner=owner)
            if row.get("card_barcode") and card is None:
                continue
            left = plan.left_on or (owner.left_on if owner is not None else None)
            if owner is not None:
                mine = self.existing_associates.get(owner.pk, [])
                same = [a for a in mine if (card and a.card_barcode == card) or (
                    search_key(a.first_name) == search_key(row.get("first_name")) and search_key(a.last_name) == search_key(row.get("last_name")))]
                if same:
                    continue
                if owner.left_on is not None:
                    self.error(row, None, "member_number", _("This member has left the coop: no new associates."))
                    continue
                current = sum(1 for a in mine if a.removed_on is None)
            else:
                current = 0
            if not left:
                per_member[plan.number] = per_member.get(plan.number, current) + 1
                if per_member[plan.number] > self.params.max_associates:
                    self.error(row, None, "member_number", _(
                        "A member may attach at most %(max)d household associate(s) (a parameter of the coop)."
                    ) % {"max": self.params.max_associates})
                    continue
            self.plan.associates.append({"row": row, "plan": plan, "first_name": row.get("first_name"),
                                         "last_name": row.get("last_name"), "card_barcode": card, "removed_on": left,
                                         "associate_number": int(card[4:12]) if card and card.startswith("0421") else None})
        self.number_new_associates()

    def number_new_associates(self) -> None:
        """Associates whose card is not a `0421` card get the next numbers after the highest
        (the file's `0421` cards included): first those with no card (theirs is made from the
        number), then those keeping a card of another system, each by holder then line. So an
        export imported again gives every associate its number back."""
        rows = self.plan.associates
        given = [a["associate_number"] for a in rows if a["associate_number"]]
        following = max([member_selectors.sequence_value("associate"), *given]) + 1

        def order(a):
            return (a["plan"].number or 0, a["row"].line)

        for group in ([a for a in rows if not a["card_barcode"]], [a for a in rows if a["card_barcode"] and not a["associate_number"]]):
            for associate in sorted(group, key=order):
                associate["associate_number"] = following
                following += 1

    # --- absences.csv and extensions.csv -------------------------------------------------------

    def absences(self) -> None:
        periods: dict[tuple, list[tuple]] = {}
        for row in self.rows("absences.csv"):
            plan = self.member_of(row)
            if plan is None or row.bad:
                continue
            kind, start, end = row.get("kind"), row.get("start"), row.get("end")
            if end is not None and end < start:
                self.error(row, None, "end", _("The absence ends before it starts."))
                continue
            if kind == "leave" and end is None:
                self.error(row, None, "end", _("A leave has an end (an exemption may be open-ended)."))
                continue
            if kind == "leave" and (end - start).days + 1 < self.params.min_leave_days:
                self.warn(row, "end", _("Shorter than the minimum leave (%(n)d days): kept as it was.") % {"n": self.params.min_leave_days})
            known = periods.setdefault((plan.number, kind), [])
            if plan.existing is not None:
                recorded = self.existing_standings.get(plan.existing.pk, {}).get(kind, [])
                same = [p for p in recorded if p[0] == start]
                if same:
                    if same[0][1] != end:
                        self.warn(row, "end", _("Differs from the database (%(end)s): an import does not change it (use the member's page).") % {
                            "end": same[0][1] or "-"})
                    continue
                known.extend((*p, None) for p in recorded if (*p, None) not in known)
            clash = next((p for p in known if start <= (p[1] or datetime.date.max) and p[0] <= (end or datetime.date.max)), None)
            if clash is not None:
                self.error(row, None, "start", _("Overlaps another %(kind)s of this member (%(line)s).") % {
                    "kind": kind, "line": _("line %d") % clash[2] if clash[2] else _("in the database")})
                continue
            known.append((start, end, row.line))
            self.plan.absences.append({"row": row, "plan": plan, "kind": kind, "start": start, "end": end, "reason": row.get("reason", "")})

    def extensions(self) -> None:
        for row in self.rows("extensions.csv"):
            plan = self.member_of(row)
            if plan is None or row.bad:
                continue
            if row.get("end") < row.get("start"):
                self.error(row, None, "end", _("The extension ends before it starts."))
                continue
            if row.get("granted_on") > self.today:
                self.error(row, None, "granted_on", _("An extension cannot be granted in the future."))
                continue
            if plan.existing is not None and row.get("granted_on") in self.existing_standings.get(plan.existing.pk, {}).get("extensions", []):
                continue
            self.plan.extensions.append({"row": row, "plan": plan, **{k: row.get(k) for k in ("granted_on", "start", "end")},
                                         "reason": row.get("reason", "")})

    # --- qualifications.csv ----------------------------------------------------------------------

    def qualifications(self) -> None:
        rows = self.rows("qualifications.csv")
        read = 0
        for row in rows:
            plan = self.member_of(row)
            if plan is None or row.bad:
                continue
            if row.get("until") is not None and row.get("until") < row.get("since"):
                self.error(row, None, "until", _("The qualification ends before it starts."))
                continue
            read += 1
            self.plan.qualifications.append({"row": row, "plan": plan})
        if read:
            self.report.warn("qualifications.csv", None, "-", _("%(n)d rows read and checked, %(not_yet)s.") % {"n": read, "not_yet": not_yet()})

    # --- slots: capacity -------------------------------------------------------------------------

    def slot_capacity(self) -> None:
        """A template never has more slot holders than its capacity (DOMAIN.md §2)."""
        for plan in self.plan.members:
            if plan.slot is None or plan.existing is not None:
                continue
            ref = plan.slot[0]
            key = ref.template.pk if ref.template is not None else id(ref)
            self.holders[key] = self.holders.get(key, 0) + 1
            if self.holders[key] > ref.capacity:
                self.error(plan.row, None, "slot_template", _(
                    "Over capacity: template “%(name)s” has %(n)d places, all taken by the database and the lines above."
                ) % {"name": ref.name, "n": ref.capacity})
                plan.slot = None


def plan_import(source: Source, *, today: datetime.date, report: Report) -> Plan:
    """Check the files and plan the writes; every problem goes to `report`."""
    return Planner(source, today=today, report=report).run()

