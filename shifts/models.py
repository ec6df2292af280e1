"""Shift templates, shifts, registrations, the counter ledger, statuses and decisions (DOMAIN.md §2-§5)."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import AppendOnlyModel, Member, Qualification

from . import status as st

WEEK_CHOICES = [(letter, letter) for letter in "ABCD"]
WEEKDAY_CHOICES = [
    (0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
    (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday")),
]


class ShiftTemplate(models.Model):
    """A recurring slot of the ABCD cycle."""

    name = models.CharField(_("name"), max_length=100)
    week = models.CharField(_("week"), max_length=1, choices=WEEK_CHOICES)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAY_CHOICES, validators=[MaxValueValidator(6)])
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=6, validators=[MinValueValidator(1)])
    required_skill = models.CharField(_("required skill"), max_length=100, blank=True)
    leader = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_templates", verbose_name=_("leader"))
    active = models.BooleanField(_("active"), default=True)
    # A welcome session (DOMAIN.md §9): attending sets the member's welcome date; no points.
    welcome = models.BooleanField(_("welcome session"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["week", "weekday", "start_time", "name"]
        verbose_name = _("shift template")
        verbose_name_plural = _("shift templates")
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=models.F("start_time")), name="template_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="template_capacity_positive"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="template_weekday_range"),
        ]

    def __str__(self):
        return f"{self.week}{self.get_weekday_display()} {self.start_time:%H:%M} {self.name}"


class Shift(models.Model):
    """One dated shift, generated from a template (one per template and date) or made by hand."""

    template = models.ForeignKey(ShiftTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="shifts")
    name = models.CharField(_("name"), max_length=100)
    date = models.DateField(_("date"), db_index=True)
    start = models.DateTimeField(_("start"), db_index=True)
    end = models.DateTimeField(_("end"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    week = models.CharField(_("week"), max_length=1, choices=WEEK_CHOICES)
    cancelled = models.BooleanField(_("cancelled"), default=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    welcome = models.BooleanField(_("welcome session"), default=False)

    class Meta:
        ordering = ["start", "name"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            models.UniqueConstraint(fields=["template", "date"], name="one_shift_per_template_and_date"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="shift_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.name} {self.start:%Y-%m-%d %H:%M}"


class SeatRequirement(models.Model):
    """How many seats need a qualification (DOMAIN.md §9), in order; the other seats are open."""

    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="%(class)ss")
    seats = models.PositiveSmallIntegerField(_("seats"), validators=[MinValueValidator(1)])
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.qualification_id}:{self.seats}"


class TemplateRequirement(SeatRequirement):
    """A template's qualified seats."""

    template = models.ForeignKey(ShiftTemplate, on_delete=models.CASCADE, related_name="requirements")

    class Meta:
        ordering = ["template", "position", "id"]
        verbose_name = _("qualified seats")
        verbose_name_plural = _("qualified seats")
        constraints = [
            models.UniqueConstraint(fields=["template", "qualification"], name="one_requirement_per_template_and_qualification"),
            models.CheckConstraint(condition=Q(seats__gte=1), name="template_requirement_seats_positive"),
        ]


class ShiftRequirement(SeatRequirement):
    """A shift's qualified seats, copied from its template (future shifts follow template changes)."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="requirements")

    class Meta:
        ordering = ["shift", "position", "id"]
        verbose_name = _("qualified seats of a shift")
        verbose_name_plural = _("qualified seats of shifts")
        constraints = [
            models.UniqueConstraint(fields=["shift", "qualification"], name="one_requirement_per_shift_and_qualification"),
            models.CheckConstraint(condition=Q(seats__gte=1), name="shift_requirement_seats_positive"),
        ]


class SlotAssignment(models.Model):
    """A standard member's regular slot: one template, from a start date, until ended."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="slots")
    template = models.ForeignKey(ShiftTemplate, on_delete=models.PROTECT, related_name="slots")
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=255, blank=True)
    # The seat the slot takes on its shifts: a qualification's seat, or an open seat (null).
    seat = models.ForeignKey(Qualification, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("seat"))
    seat_reason = models.CharField(_("qualification confirmed by coordinators because"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date"]
        verbose_name = _("regular slot")
        verbose_name_plural = _("regular slots")
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(end_date__isnull=True), name="one_open_slot_per_member"),
        ]

    def __str__(self):
        return f"{self.member} @ {self.template}"


class Registration(models.Model):
    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular slot")
        ONE_OFF = "one_off", _("One-off")

    class Attendance(models.TextChoices):
        ATTENDED = "attended", _("Attended")
        MISSED = "missed", _("Missed")
        EXCUSED = "excused", _("Excused")

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="registrations")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="registrations")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    attendance = models.CharField(_("attendance"), max_length=8, choices=Attendance.choices, null=True, blank=True)
    attendance_at = models.DateTimeField(null=True, blank=True)
    attendance_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    offered_at = models.DateTimeField(_("offered on the exchange"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=32, blank=True)
    # The seat taken (DOMAIN.md §9): a qualification's seat, or an open seat (null).
    seat = models.ForeignKey(Qualification, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("seat"))
    # Coordinators seated a member without the seat's qualification (a parameter allows it): why.
    seat_reason = models.CharField(_("qualification confirmed by coordinators because"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["shift__start", "id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(fields=["shift", "member"], condition=Q(cancelled_at__isnull=True), name="one_live_registration_per_member_and_shift"),
        ]
        indexes = [models.Index(fields=["member", "cancelled_at"])]

    def __str__(self):
        return f"{self.member} on {self.shift}"


class CounterEvent(AppendOnlyModel):
    """One immutable row of a member's counters (DOMAIN.md §3)."""

    class Kind(models.TextChoices):
        ATTENDED_REGULAR = st.ATTENDED_REGULAR, _("Attended own regular shift")
        MISSED_REGULAR = st.MISSED_REGULAR, _("Missed own regular shift")
        EXCUSED_REGULAR = st.EXCUSED_REGULAR, _("Excused from own regular shift")
        ATTENDED_OTHER = st.ATTENDED_OTHER, _("Attended a make-up or extra shift")
        MISSED_OTHER = st.MISSED_OTHER, _("Missed a one-off booking")
        EXCUSED_OTHER = st.EXCUSED_OTHER, _("Excused from a one-off booking")
        FTOP_ATTENDED = st.FTOP_ATTENDED, _("FTOP shift attended")
        FTOP_MISSED = st.FTOP_MISSED, _("FTOP shift missed")
        FTOP_EXCUSED = st.FTOP_EXCUSED, _("FTOP shift excused")
        CYCLE_CHARGE = st.CYCLE_CHARGE, _("Cycle charge")
        CORRECTION = st.CORRECTION, _("Correction")
        TRANSFER = st.TRANSFER, _("Credit used for a debt")
        REENROL = st.REENROL, _("Re-enrolment")
        REVERSAL = st.REVERSAL, _("Reversal")
        OPENING = st.OPENING, _("Opening balance (imported)")
        UNSUBSCRIBED = st.UNSUBSCRIBED_MARK, _("Unsubscribed automatically")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="counter_events")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    standard_points = models.SmallIntegerField(_("standard points"), default=0)
    ftop_points = models.SmallIntegerField(_("FTOP points"), default=0)
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    registration = models.ForeignKey(Registration, null=True, blank=True, on_delete=models.PROTECT, related_name="counter_events")
    cycle_start = models.DateField(_("cycle start"), null=True, blank=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    # A re-resolved row (DOMAIN.md §3) names the row it replaces; it keeps that row's place in its day.
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by")
    # An automatic transfer names the row it follows.
    cause = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="transfers")
    # A correction as coordinators entered it (its points may be re-resolved when earlier events arrive).
    points_entered = models.SmallIntegerField(_("points entered"), null=True, blank=True)
    counter_entered = models.CharField(_("counter entered"), max_length=8, blank=True)
    revision = models.PositiveSmallIntegerField(_("revision"), default=0)
    reason = models.TextField(_("reason"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    immutable_message = "Counter events are immutable: write a correction instead."
    anonymisable_fields = ("reason",)

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("counter event")
        verbose_name_plural = _("counter events")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "cycle_start", "revision"], condition=Q(kind=st.CYCLE_CHARGE),
                name="one_cycle_charge_per_member_cycle_and_revision",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "date"]),
            # The daily job asks which members were imported (their opening rows): a few rows among millions.
            models.Index(fields=["member", "date"], condition=Q(kind=st.OPENING), name="counterevent_opening"),
        ]

    def __str__(self):
        return f"{self.date} {self.kind} {self.standard_points:+d}/{self.ftop_points:+d}"


    def as_event(self, order: int | None = None) -> st.Event:
        return st.Event(self.date, self.kind, self.standard_points, self.ftop_points, seq=self.pk or 0, voids=self.reverses_id,
                        order=order)


class StatusChange(AppendOnlyModel):
    """The status history: every change of a member's working status, with its cause."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, choices=Member.Status.choices)
    to_status = models.CharField(_("to"), max_length=16, choices=Member.Status.choices)
    effective_date = models.DateField(_("effective on"))
    written_at = models.DateTimeField(_("written at"), auto_now_add=True)
    cause = models.CharField(_("cause"), max_length=255)

    anonymisable_fields = ("cause",)

    class Meta:
        ordering = ["-effective_date", "-id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status history")

    def __str__(self):
        return f"{self.effective_date} {self.from_status} -> {self.to_status}"


class Leave(models.Model):
    """A leave suspends the work obligation and shopping (at least 28 days, both ends included)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="leaves")
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start"]
        verbose_name = _("leave")
        verbose_name_plural = _("leaves")
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="leave_ends_after_start")]

    def __str__(self):
        return f"{self.member} {self.start}..{self.end}"

    def as_period(self) -> st.Period:
        return st.Period(self.start, self.end)


class Exemption(models.Model):
    """An exemption (health, age, parental...) suspends the work obligation only; may be open-ended."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="exemptions")
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start"]
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        constraints = [models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="exemption_ends_after_start")]

    def __str__(self):
        return f"{self.member} {self.start}..{self.end or ''}"

    def as_period(self) -> st.Period:
        return st.Period(self.start, self.end)


class Extension(models.Model):
    """28 more days of `delay` for a member in debt, chained from the alert deadline."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="extensions")
    granted_on = models.DateField(_("granted on"))
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    reason = models.TextField(_("reason"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-granted_on", "-id"]
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")

    def __str__(self):
        return f"{self.member} {self.start}..{self.end}"


class CycleStartProcessed(models.Model):
    """A cycle start whose charges the daily job has written (DOMAIN.md §3): never charged twice,
    and on a first run only the latest cycle start is charged (no back-billing)."""

    cycle_start = models.DateField(primary_key=True)
    processed_at = models.DateTimeField(auto_now_add=True)
    charges = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-cycle_start"]
        verbose_name = _("processed cycle start")
        verbose_name_plural = _("processed cycle starts")

    def __str__(self):
        return f"{self.cycle_start} ({self.charges} charges)"


class JobRun(models.Model):
    """The last date each periodic job ran as of (cycle charges missed while it did not run)."""

    name = models.CharField(max_length=32, primary_key=True)
    last_date = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name} {self.last_date}"


class NotificationLog(models.Model):
    """Every message sent to a member; (member, kind, key) is unique, so a re-run sends nothing twice.

    `key` names what the message is about (`registration-12`, `statuschange-40`, `shift-7`): a
    message about several things (an understaffed call listing three shifts) writes one row each.
    """

    class Kind(models.TextChoices):
        BOOKING = "booking", _("Booking confirmation")
        REMINDER = "reminder", _("Shift reminder")
        MISSED = "missed", _("Missed shift")
        ALERT = "alert", _("Alert notice")
        SUSPENDED = "suspended", _("Suspension notice")
        EXCHANGE_TAKEN = "exchange_taken", _("Exchange taken")
        UNDERSTAFFED = "understaffed", _("Understaffed shift call")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    key = models.CharField(_("about"), max_length=64)
    recipient = models.EmailField(_("sent to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("notification sent")
        verbose_name_plural = _("notifications sent")
        constraints = [models.UniqueConstraint(fields=["member", "kind", "key"], name="one_notification_per_member_kind_and_key")]

    def __str__(self):
        return f"{self.kind} {self.key} -> {self.recipient}"


class NotificationPreference(models.Model):
    """A member's choices for the optional messages (no row: everything on)."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="notification_preference")
    reminders = models.BooleanField(_("reminders before my shifts"), default=True)
    understaffed_calls = models.BooleanField(_("calls for understaffed shifts"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"{self.member}: reminders={self.reminders} understaffed={self.understaffed_calls}"
