"""Pages of the coordination team (/shifts/): the cycle calendar, a shift's roster and attendance,
the attendance sheet, members owing make-ups, a member's timeline and the dashboard.

Coordinators only (others get 403, anonymous users the login page). Views parse input, call the
services of `shifts.services` and render; reads come from `shifts.selectors`. The clock is read
only here, through `clock_now()` / `clock_today()` (tests replace them).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from coopmarket.dates import coop_today
from coopmarket.errors import RuleViolation
from coopmarket.forms import add_service_errors
from coopmarket.roles import CoordinatorRequiredMixin, is_coordinator
from coopmarket.tables import SafeExportMixin
from members.models import Member

from . import cycle, documents, selectors, services
from .filters import DebtFilter
from .forms import AddMemberForm, AttendanceForm, ShiftTypeForm
from .models import CounterEvent, Registration, Shift
from .tables import DebtTable

UPCOMING_DAYS = 14
SUSPENSION_WARNING_DAYS = 7


# --- the clock and the role -------------------------------------------------------------------

def clock_now() -> datetime.datetime:
    return timezone.now()


def clock_today() -> datetime.date:
    return coop_today()


def coordinator_required(view):
    """Login first, then the coordinators role (403 otherwise)."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_coordinator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --- the cycle calendar -----------------------------------------------------------------------

def _parse_date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass
class Day:
    date: datetime.date
    shifts: list = field(default_factory=list)


@coordinator_required
def calendar(request):
    """The four weeks A-D of one cycle, each shift with seats taken / capacity (one query)."""
    now, today = clock_now(), clock_today()
    anchor = settings.COOP_CYCLE_START
    first = cycle.cycle_start_on_or_before(_parse_date(request.GET.get("date")) or today, anchor)
    last = first + datetime.timedelta(days=cycle.CYCLE_DAYS - 1)
    percent = selectors.understaffed_percent()
    days = {first + datetime.timedelta(days=n): Day(first + datetime.timedelta(days=n)) for n in range(cycle.CYCLE_DAYS)}
    for shift in selectors.shifts_between(first=first, last=last, now=now):
        shift.understaffed = not shift.cancelled and selectors.is_understaffed(shift.seats_taken, shift.capacity, percent)
        shift.full = shift.seats_taken >= shift.capacity
        shift.ended = shift.end <= now
        shift.to_record = shift.ended and not shift.cancelled and shift.unrecorded > 0
        days[shift.date].shifts.append(shift)
    used = sorted({d.date.weekday() for d in days.values() if d.shifts}) or list(range(6))
    weeks = []
    for index, letter in enumerate(cycle.WEEKS):
        monday = first + datetime.timedelta(weeks=index)
        weeks.append({
            "letter": letter, "monday": monday,
            "days": [days[monday + datetime.timedelta(days=weekday)] for weekday in used],
        })
    return render(request, "shifts/office/calendar.html", {
        "weeks": weeks, "first": first, "last": last, "today": today, "columns": len(used),
        "previous": first - datetime.timedelta(days=cycle.CYCLE_DAYS),
        "next": first + datetime.timedelta(days=cycle.CYCLE_DAYS),
        "current": cycle.cycle_start_on_or_before(today, anchor),
        "percent": percent,
    })


# --- a shift: roster, attendance, adding a member ---------------------------------------------

def _attendance_error(exc: RuleViolation, shift: Shift) -> str:
    """The service's refusal, said so that the coordinator knows what to change."""
    start = timezone.localtime(shift.start, services.coop_zone())
    end = timezone.localtime(shift.end, services.coop_zone())
    if exc.code == "not_started":
        return _("Nothing was saved: “Attended” can be recorded from the start of the shift (%(time)s).") % {
            "time": time_format(start, "H:i")}
    if exc.code == "not_ended":
        return _("Nothing was saved: “Missed” can be recorded only once the shift has ended (%(time)s). "
                 "Until then, choose “Excused” or leave the row as it is.") % {"time": time_format(end, "H:i")}
    return _("Nothing was saved: %(reason)s") % {"reason": exc.message}


def _refused_rows(form: AttendanceForm, code: str) -> set[int]:
    """The registrations whose chosen state the shift's time refuses (to highlight them)."""
    refused_state = {"not_started": Registration.Attendance.ATTENDED, "not_ended": Registration.Attendance.MISSED}.get(code)
    return {
        registration.pk for registration in form.registrations
        if form.cleaned_data.get(form.field_name(registration)) == refused_state
        and registration.attendance != refused_state
    }


@transaction.atomic
def _add_member(*, shift: Shift, member: Member, now: datetime.datetime, today: datetime.date, by) -> Registration:
    """Register a member; on a shift that has started, the make-up is done: record it as attended."""
    registration = services.shift_book(shift=shift, member=member, now=now, by=by, as_coordinator=True)
    if shift.start <= now:
        registration = services.attendance_record(
            shift=shift, member=member, state=Registration.Attendance.ATTENDED, now=now, today=today, by=by,
        )
    return registration


@coordinator_required
def shift_detail(request, pk):
    now, today = clock_now(), clock_today()
    shift = get_object_or_404(selectors.shifts_with_seats(now=now), pk=pk)
    registrations = list(selectors.roster(shift))
    action = request.POST.get("action") if request.method == "POST" else None
    attendance_form = AttendanceForm(request.POST if action == "attendance" else None, registrations=registrations)
    add_form = AddMemberForm(request.POST if action == "add" else None, prefix="add")
    refused: set[int] = set()
    if action == "attendance" and attendance_form.is_valid():
        entries = attendance_form.entries()
        try:
            services.attendance_record_bulk(shift=shift, entries=entries, now=now, today=today, by=request.user)
        except RuleViolation as exc:
            attendance_form.add_error(None, _attendance_error(exc, shift))
            refused = _refused_rows(attendance_form, exc.code)
        except ValidationError as exc:
            names = {str(i): entry["member"].full_name for i, entry in enumerate(entries)}
            for key, errors in getattr(exc, "message_dict", {"": exc.messages}).items():
                for message in errors:
                    prefix = f"{names[key]}: " if key in names else ""
                    attendance_form.add_error(None, _("Nothing was saved: %(reason)s") % {"reason": prefix + message})
        else:
            messages.success(request, ngettext(
                "Attendance recorded for %(n)d member.", "Attendance recorded for %(n)d members.", len(entries),
            ) % {"n": len(entries)})
            return redirect("shifts:detail", pk=shift.pk)
    elif action == "add" and add_form.is_valid():
        member = add_form.cleaned_data["member"]
        try:
            _add_member(shift=shift, member=member, now=now, today=today, by=request.user)
        except (RuleViolation, ValidationError) as exc:
            add_service_errors(add_form, exc)
        else:
            if shift.start <= now:
                text = _("%(name)s added to this shift: make-up recorded as attended.")
            else:
                text = _("%(name)s registered on this shift.")
            messages.success(request, text % {"name": member.full_name})
            return redirect("shifts:detail", pk=shift.pk)
    status = 400 if action and (attendance_form.errors or add_form.errors) else 200
    return render(request, "shifts/office/shift_detail.html", {
        "shift": shift,
        "form": attendance_form,
        "rows": attendance_form.rows(),
        "refused": refused,
        "add_form": add_form,
        "started": shift.start <= now,
        "ended": shift.end <= now,
        "understaffed": not shift.cancelled and selectors.is_understaffed(shift.seats_taken, shift.capacity),
        "recorded": sum(1 for r in registrations if r.attendance),
    }, status=status)


@coordinator_required
def shift_sheet(request, pk):
    shift = get_object_or_404(Shift, pk=pk)
    pdf = documents.shift_sheet_pdf(shift, list(selectors.roster(shift)))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="shift-{shift.date:%Y-%m-%d}-{shift.pk}.pdf"'
    return response


# --- members owing make-ups -------------------------------------------------------------------

class DebtListView(CoordinatorRequiredMixin, SafeExportMixin, SingleTableMixin, FilterView):
    """Every member owing make-ups: counters, status, deadline, days left, last attended shift,
    contact. One query for the rows whatever their number (annotations and subqueries)."""

    table_class = DebtTable
    filterset_class = DebtFilter
    template_name = "shifts/office/debt.html"
    table_pagination = {"per_page": 50}
    export_name = "make-ups-owed"

    def get_queryset(self):
        self.today = clock_today()
        return selectors.members_owing(today=self.today)

    def get_table_kwargs(self):
        return {"today": self.today}


# --- a member's timeline ----------------------------------------------------------------------

@dataclass
class TimelineRow:
    date: datetime.date
    kind: str  # "event", "status", "decision"
    label: str
    detail: str = ""
    standard: int | None = None
    ftop: int | None = None
    total_standard: int | None = None
    total_ftop: int | None = None
    shift: Shift | None = None
    author: object = None
    reversed: bool = False
    status_to: str = ""
    explanation: str = ""


ORDER = {"event": 0, "decision": 1, "status": 2}
OWING = {Member.Status.ALERT, Member.Status.DELAY, Member.Status.SUSPENDED}
# What a change of status means by the rules (DOMAIN.md §5), whatever write triggered it (its cause).
STATUS_MEANING = {
    Member.Status.SUSPENDED: gettext_lazy("Make-ups were still owed when the alert deadline (or the extension) ran out."),
    Member.Status.ALERT: gettext_lazy("The counter went below 0: the make-ups are to be worked before the alert deadline."),
    Member.Status.DELAY: gettext_lazy("An extension gives more time to work the make-ups."),
}
BACK_UP_TO_DATE = gettext_lazy("The make-ups are worked: the counter is back to 0 or more.")


def status_meaning(from_status: str, to_status: str) -> str:
    if to_status in STATUS_MEANING:
        return str(STATUS_MEANING[to_status])
    if to_status == Member.Status.UP_TO_DATE and from_status in OWING:
        return str(BACK_UP_TO_DATE)
    return ""


def timeline_rows(facts: dict) -> list[TimelineRow]:
    """Counter events (with running totals), status changes and decisions, newest first."""
    statuses = dict(Member.Status.choices)
    reversed_ids = {e.reverses_id for e in facts["events"] if e.reverses_id}
    keyed = []
    total_std = total_ftop = 0
    # Oldest first, in effect order (on one date the cycle charge comes last): the running totals.
    events = sorted(facts["events"], key=lambda e: (e.date, e.kind == CounterEvent.Kind.CYCLE_CHARGE, e.pk))
    for event in events:
        total_std += event.standard_points
        total_ftop += event.ftop_points
        detail = event.reason
        if event.kind == CounterEvent.Kind.CYCLE_CHARGE and event.cycle_start:
            detail = _("Cycle starting %(date)s") % {"date": event.cycle_start.isoformat()}
        keyed.append(((event.date, ORDER["event"], event.kind == CounterEvent.Kind.CYCLE_CHARGE, event.pk), TimelineRow(
            date=event.date, kind="event", label=event.get_kind_display(), detail=detail,
            standard=event.standard_points, ftop=event.ftop_points, total_standard=total_std, total_ftop=total_ftop,
            shift=event.shift, author=event.author, reversed=event.pk in reversed_ids,
        )))
    for change in facts["changes"]:
        label = _("Status: %(old)s → %(new)s") % {
            "old": statuses.get(change.from_status, change.from_status), "new": statuses.get(change.to_status, change.to_status)}
        keyed.append(((change.effective_date, ORDER["status"], False, change.pk), TimelineRow(
            date=change.effective_date, kind="status", label=label, detail=change.cause, status_to=change.to_status,
            explanation=status_meaning(change.from_status, change.to_status),
        )))
    for leave in facts["leaves"]:
        keyed.append(((leave.start, ORDER["decision"], False, leave.pk), TimelineRow(
            date=leave.start, kind="decision", label=_("Leave from %(start)s to %(end)s") % {
                "start": leave.start.isoformat(), "end": leave.end.isoformat()}, detail=leave.reason,
        )))
    for exemption in facts["exemptions"]:
        if exemption.end:
            label = _("Exemption from %(start)s to %(end)s") % {"start": exemption.start.isoformat(), "end": exemption.end.isoformat()}
        else:
            label = _("Exemption from %(start)s, open-ended") % {"start": exemption.start.isoformat()}
        keyed.append(((exemption.start, ORDER["decision"], False, exemption.pk), TimelineRow(
            date=exemption.start, kind="decision", label=label, detail=exemption.reason,
        )))
    for extension in facts["extensions"]:
        keyed.append(((extension.granted_on, ORDER["decision"], False, extension.pk), TimelineRow(
            date=extension.granted_on, kind="decision", detail=extension.reason, author=extension.author,
            label=_("Extension granted: delay from %(start)s to %(end)s") % {
                "start": extension.start.isoformat(), "end": extension.end.isoformat()},
        )))
    keyed.sort(key=lambda item: item[0], reverse=True)
    return [row for _key, row in keyed]


@coordinator_required
def member_timeline(request, pk):
    """Why is this member where they are? Counter events and status history, newest first."""
    today = clock_today()
    member = get_object_or_404(selectors.members_with_slot_week(today=today), pk=pk)
    facts = selectors.timeline_facts(member)
    last_change = facts["changes"][-1] if facts["changes"] else None
    return render(request, "shifts/office/timeline.html", {
        "member": member,
        "rows": timeline_rows(facts),
        "since": last_change if last_change and last_change.to_status == member.status else None,
        "days_left": selectors.days_before_suspension(member, today),
        "today": today,
        "totals_match": (
            sum(e.standard_points for e in facts["events"]) == member.counter_standard
            and sum(e.ftop_points for e in facts["events"]) == member.counter_ftop
        ),
    })


@coordinator_required
def member_shift_type(request, pk):
    """Switch a member between standard and FTOP through the rules (no make-ups owed; a switch to
    standard takes its regular slot in the same step; a switch to FTOP ends the slot)."""
    member = get_object_or_404(Member, pk=pk)
    initial = {"shift_type": Member.ShiftType.FTOP if member.shift_type == Member.ShiftType.STANDARD else Member.ShiftType.STANDARD}
    form = ShiftTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.shift_type_switch(
                member=member, shift_type=data["shift_type"], template=data["template"], start_date=data["start_date"],
                today=clock_today(), by=request.user,
            )
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Shift type changed."))
            return redirect("members:detail", pk=member.pk)
    intro = _("Now %(type)s. A switch is refused while make-ups are owed: they are worked off first, or settled with a correction.") % {
        "type": member.get_shift_type_display()}
    return render(request, "members/simple_form.html", {
        "form": form, "member": member, "title": _("Shift type of %(name)s") % {"name": member.full_name},
        "intro": intro, "submit_label": _("Switch"),
    })


# --- the dashboard ----------------------------------------------------------------------------

@coordinator_required
def dashboard(request):
    now, today = clock_now(), clock_today()
    counts = selectors.status_counts(today=today)
    working = [(value, label) for value, label in Member.Status.choices if value != Member.Status.NOT_CONCERNED]
    groups: dict[tuple, dict] = {}
    for row in counts["per_group"]:
        if row["shift_type"] == Member.ShiftType.FTOP:
            key = ("ftop", None)
        else:
            key = ("standard", row["slot_week"])
        groups.setdefault(key, {}).setdefault(row["status"], 0)
        groups[key][row["status"]] += row["n"]
    matrix = []
    for key, label in [
        *((("standard", letter), _("Week %(letter)s") % {"letter": letter}) for letter in cycle.WEEKS),
        (("standard", None), _("Standard, no regular slot")),
        (("ftop", None), _("FTOP (flying)")),
    ]:
        cells = groups.get(key, {})
        matrix.append({
            "label": label, "week": key[1] if key[0] == "standard" else None,
            "cells": [cells.get(value, 0) for value, _label in working],
            "total": sum(cells.values()),
            "places": counts["places"].get(key[1]) if key[0] == "standard" and key[1] else None,
        })
    last_day = today + datetime.timedelta(days=UPCOMING_DAYS)
    understaffed = list(
        selectors.understaffed_shifts(first=today, last=last_day, now=now).filter(end__gt=now)
    )
    to_record = list(
        selectors.shifts_between(first=today - datetime.timedelta(days=UPCOMING_DAYS), last=today, now=now)
        .filter(end__lte=now, cancelled=False, unrecorded__gt=0)
    )
    soon = list(selectors.members_soon_suspended(today=today, days=SUSPENSION_WARNING_DAYS))
    for member in soon:
        member.days_left = selectors.days_before_suspension(member, today)
    per_status = counts["per_status"]
    return render(request, "shifts/office/dashboard.html", {
        "today": today,
        "status_rows": [(value, label, per_status.get(value, 0)) for value, label in Member.Status.choices],
        "working": working,
        "matrix": matrix,
        "column_totals": [sum(row["cells"][i] for row in matrix) for i in range(len(working))],
        "grand_total": sum(row["total"] for row in matrix),
        "understaffed": understaffed,
        "to_record": to_record,
        "soon": soon,
        "upcoming_days": UPCOMING_DAYS,
        "warning_days": SUSPENSION_WARNING_DAYS,
        "percent": selectors.understaffed_percent(),
    })
