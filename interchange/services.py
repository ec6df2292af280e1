"""Importing a whole coop (CONTRACT.md §7): check everything, then write everything or nothing.

`coop_import` reads the files (`reader`), checks them against the rules and the database and
plans the writes (`plan`), then writes through the members and shifts services, in batches of
members (a constant number of queries per batch), inside one transaction. A dry run does the
same and rolls back, so its report (counts, warnings, the statuses the members would get) is
the one the import would give. Any error, and nothing at all is written.
"""
from __future__ import annotations

import datetime
import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coopmarket.errors import RuleViolation
from members import services as member_services
from members.models import Member
from shifts import services as shift_services

from .plan import MemberPlan, Plan, plan_import
from .reader import Source
from .report import Report

BATCH_SIZE = 1000


class _Rollback(Exception):
    """Undo everything: a dry run, or an error found while writing."""


def coop_import(*, source: Source, today: datetime.date, dry_run: bool = False, by=None, batch_size: int = BATCH_SIZE) -> Report:
    """Import the files of `source` as of `today` (opening counters dated the day before).

    Returns the report: every problem as `file:line: column: message`, what was (or, for a dry
    run, would be) created and changed, and the statuses of the members imported. Nothing is
    written when the report has errors or for a dry run."""
    started = time.monotonic()
    report = Report(dry_run=dry_run)
    for problem in source.problems:
        report.add(problem)
    plan = plan_import(source, today=today, report=report)
    if report.ok:
        try:
            with transaction.atomic():
                _Writer(plan, report, today=today, by=by, batch_size=batch_size).run()
                if dry_run or not report.ok:
                    raise _Rollback
        except _Rollback:
            pass
    report.seconds = time.monotonic() - started
    return report


def _messages(exc: Exception) -> dict[str, list[str]]:
    if isinstance(exc, RuleViolation):
        return {"": [exc.message]}
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"": list(exc.messages)}


class _Writer:
    def __init__(self, plan: Plan, report: Report, *, today: datetime.date, by, batch_size: int):
        self.plan, self.report, self.today, self.by, self.batch_size = plan, report, today, by, batch_size
        self.members: dict[int, Member] = {}  # member number -> Member, for every member written or matched
        # The rows hanging on each member, found once (not scanned again for every batch).
        self.rows_of: dict[str, dict[int, list[dict]]] = {}
        for kind in ("subscriptions", "associates", "absences", "extensions"):
            grouped: dict[int, list[dict]] = {}
            for item in getattr(plan, kind):
                grouped.setdefault(id(item["plan"]), []).append(item)
            self.rows_of[kind] = grouped

    def run(self) -> None:
        self.templates()
        self.contacts()
        new = [m for m in self.plan.members if m.existing is None]
        for start in range(0, len(new), self.batch_size):
            self.batch(new[start:start + self.batch_size])
        existing = [m for m in self.plan.members if m.existing is not None]
        for m in existing:
            self.members[m.number] = m.existing
        for start in range(0, len(existing), self.batch_size):
            self.additions(existing[start:start + self.batch_size])
        self.payments_to_existing()

    def fail(self, exc: Exception, where) -> None:
        """Errors a service found while writing: `where(key)` says which row and column."""
        for key, messages in _messages(exc).items():
            file, line, column = where(key)
            for message in messages:
                self.report.error(file, line, column, message)

    # --- templates and contact changes -----------------------------------------------------------

    def templates(self) -> None:
        for row, ref, fields in self.plan.templates_new:
            try:
                with transaction.atomic():
                    ref.template = shift_services.template_create(**fields)
            except (ValidationError, RuleViolation) as exc:
                self.fail(exc, lambda key, row=row: (row.file, row.line, key or "-"))
        self.report.count("templates", created=len(self.plan.templates_new))
        now = datetime.datetime.combine(self.today, datetime.time.min, tzinfo=shift_services.coop_zone())
        for row, template, fields in self.plan.templates_changed:
            try:
                with transaction.atomic():
                    shift_services.template_update(template=template, now=now, **fields)
            except (ValidationError, RuleViolation) as exc:
                self.fail(exc, lambda key, row=row: (row.file, row.line, key or "-"))
        self.report.count("templates", changed=len(self.plan.templates_changed))

    def contacts(self) -> None:
        changed = 0
        for plan in self.plan.members:
            if plan.existing is None or not plan.contact:
                continue
            try:
                with transaction.atomic():
                    plan.existing = member_services.member_update(member=plan.existing, today=self.today, by=self.by, **plan.contact)
                changed += 1
            except (ValidationError, RuleViolation) as exc:
                self.fail(exc, lambda key, row=plan.row: (row.file, row.line, key or "-"))
        self.report.count("members", changed=changed)

    # --- new members, batch by batch ---------------------------------------------------------------

    def batch(self, plans: list[MemberPlan]) -> None:
        """Members of one batch with everything that hangs on them, in a savepoint: a service's
        refusal is reported and the batch undone, and the next batches are still checked."""
        self._batch = plans
        try:
            with transaction.atomic():
                members = self.write_members(plans)
                self.write_dependents(plans, members, new=True)
        except _BatchFailed:
            return

    def additions(self, plans: list[MemberPlan]) -> None:
        """Rows not yet recorded for members already in the database."""
        self._batch = plans
        try:
            with transaction.atomic():
                self.write_dependents(plans, [p.existing for p in plans], new=False)
        except _BatchFailed:
            return

    def guarded(self, call, where):
        try:
            return call()
        except (ValidationError, RuleViolation) as exc:
            self.fail(exc, where)
            raise _BatchFailed from exc

    def write_members(self, plans: list[MemberPlan]) -> list[Member]:
        members = self.guarded(
            lambda: member_services.members_import(rows=[p.fields for p in plans], today=self.today, by=self.by),
            lambda key: _at(plans, key, lambda p: p.row),
        )
        for plan, member in zip(plans, members, strict=True):
            plan.number = member.member_number
            self.members[member.member_number] = member
        self.report.count("members", created=len(members))
        return members

    def member(self, plan: MemberPlan) -> Member:
        return self.members[plan.number] if plan.number in self.members else plan.existing

    def write_dependents(self, plans: list[MemberPlan], members: list[Member], *, new: bool) -> None:
        def mine(kind):
            return [item for plan in plans for item in self.rows_of[kind].get(id(plan), [])]

        subscriptions = mine("subscriptions")
        if subscriptions:
            self.guarded(lambda: member_services.subscriptions_import(rows=[{
                "member": self.member(s["plan"]), "share_class": s["share_class"], "quantity": s["quantity"],
                "instalments": s["instalments"], "subscribed_on": s["subscribed_on"],
                "payments": [(p[0], p[1], p[2], p[3]) for p in s["payments"]],
            } for s in subscriptions], today=self.today, by=self.by), lambda key: _at(subscriptions, key, lambda s: s["row"]))
            self.report.count("subscriptions", created=len(subscriptions))
            self.report.count("payments", created=sum(len(s["payments"]) for s in subscriptions))
        settle = [m.pk for m in members] if new else sorted({self.member(s["plan"]).pk for s in subscriptions})
        member_services.memberships_settle(member_ids=settle, today=self.today)
        associates = mine("associates")
        if associates:
            self.guarded(lambda: member_services.associates_import(rows=[{
                "member": self.member(a["plan"]), "first_name": a["first_name"], "last_name": a["last_name"],
                "card_barcode": a["card_barcode"], "removed_on": a["removed_on"], "associate_number": a["associate_number"],
            } for a in associates], by=self.by), lambda key: _at(associates, key, lambda a: a["row"]))
            self.report.count("associates", created=len(associates))
        slots = [p for p in plans if p.slot is not None] if new else []
        for plan in slots:
            if plan.slot[0].template is None:  # its template could not be created (reported)
                raise _BatchFailed
        absences, extensions = mine("absences"), mine("extensions")
        openings = [p for p in plans if p.opening is not None] if new else []
        lists = {"slots": slots, "absences": absences, "extensions": extensions, "openings": openings}
        self.guarded(lambda: shift_services.standing_import(
            slots=[{"member": self.member(p), "template": p.slot[0].template, "start_date": p.slot[1]} for p in slots],
            absences=[{"member": self.member(a["plan"]), **{k: a[k] for k in ("kind", "start", "end", "reason")}} for a in absences],
            extensions=[{"member": self.member(x["plan"]), **{k: x[k] for k in ("granted_on", "start", "end", "reason")}} for x in extensions],
            openings=[{"member": self.member(p), **p.opening} for p in openings],
            today=self.today, by=self.by,
        ), lambda key: _standing_at(lists, key))
        self.report.count("slots", created=len(slots))
        self.report.count("absences", created=len(absences))
        self.report.count("extensions", created=len(extensions))
        touched = sorted({m.pk for m in members} if new else
                         {self.member(item["plan"]).pk for item in [*subscriptions, *associates, *absences, *extensions]})
        if touched:
            shift_services.statuses_recompute_all(today=self.today, cause=_("Imported"), member_ids=touched)
            if new:
                for status in Member.objects.filter(pk__in=touched).values_list("status", flat=True):
                    self.report.statuses[status] = self.report.statuses.get(status, 0) + 1

    def payments_to_existing(self) -> None:
        """Payments of subscriptions already recorded that the ledger lacks: `payment_record`."""
        for item in self.plan.payments_existing:
            try:
                with transaction.atomic():
                    member_services.payment_record(
                        subscription=item["subscription"], amount=item["amount"], method=item["method"], today=self.today,
                        paid_on=item["paid_on"], reference=item["reference"], by=self.by,
                    )
            except (ValidationError, RuleViolation) as exc:
                self.fail(exc, lambda key, row=item["row"]: (row.file, row.line, key or "-"))
                continue
            self.report.count("payments", created=1)


class _BatchFailed(Exception):
    pass


def _at(items: list, key: str, row_of) -> tuple[str, int | None, str]:
    """Where a service's error keyed "<index>:<field>" lies in the files."""
    index, _sep, column = key.partition(":")
    if index.isdigit() and int(index) < len(items):
        row = row_of(items[int(index)])
        return row.file, row.line, column or "-"
    first = row_of(items[0])
    return first.file, None, key or "-"


SLOT_COLUMNS = {"slots": "slot_template", "openings": "counter_standard"}


def _standing_at(lists: dict[str, list], key: str) -> tuple[str, int | None, str]:
    """Where a `standing_import` error keyed "<index>:<list>:<field>" lies in the files."""
    index, _sep, rest = key.partition(":")
    name, _sep, column = rest.partition(":")
    items = lists.get(name) or []
    if not index.isdigit() or int(index) >= len(items):
        return "members.csv", None, key or "-"
    item = items[int(index)]
    row = item.row if isinstance(item, MemberPlan) else item["row"]
    return row.file, row.line, column or SLOT_COLUMNS.get(name, "-")
