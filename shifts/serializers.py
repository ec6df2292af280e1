"""API representations of the shift engine (CONTRACT.md §5): templates, shifts, registrations,
member decisions, and the member object's shift fields."""
from __future__ import annotations

import datetime
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from members import qualifications as quals
from members.models import Member, MemberQualification, Qualification
from members.serializers import CountersSerializer, MemberSerializer

from .models import (
    WEEK_CHOICES,
    WEEKDAY_CHOICES,
    CounterEvent,
    Exemption,
    Extension,
    Leave,
    Registration,
    Shift,
    ShiftTemplate,
    SlotAssignment,
    StatusChange,
)

MEMBERS = Member.objects.all()
QUALIFICATIONS = Qualification.objects.all()
CODE_PATTERN = r"^[-a-z0-9_]{1,20}$"


# --- qualifications ------------------------------------------------------------------------------

class QualificationCodeField(serializers.SlugRelatedField):
    """A qualification named by its code (`leader`); an unknown code is a 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", QUALIFICATIONS)
        kwargs.setdefault("help_text", _("A qualification code, e.g. leader, cashier, reception."))
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(CODE_PATTERN, data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:40].replace("\x00", ""))
        return super().to_internal_value(data)


class QualificationSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    holders = serializers.IntegerField(read_only=True, help_text=_("Members (not left) holding it today."))

    class Meta:
        model = Qualification
        fields = ["id", "code", "name", "description", "holders"]
        read_only_fields = fields


class QualificationCreateSerializer(serializers.Serializer):
    code = serializers.RegexField(CODE_PATTERN, max_length=20, help_text=_("Lower-case letters, digits, - and _; never changes."))
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class QualificationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class MemberQualificationSerializer(serializers.ModelSerializer):
    qualification = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = MemberQualification
        fields = ["id", "qualification", "since", "until", "revoked_on", "revoke_reason", "note", "granted_at"]
        read_only_fields = fields


class GrantSerializer(serializers.Serializer):
    qualification = QualificationCodeField()
    since = serializers.DateField(required=False, help_text=_("Default today; a past training may be recorded with its date."))
    until = serializers.DateField(required=False, allow_null=True, default=None, help_text=_("Last day held (expiry); none: no expiry."))
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["until"] < attrs["since"]:
            raise serializers.ValidationError({"until": [_("The expiry is on or after the start.")]})
        return attrs


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class RequirementSerializer(serializers.Serializer):
    qualification = QualificationCodeField()
    seats = serializers.IntegerField(min_value=0, max_value=1000, help_text=_("Seats that need it (0: none)."))


# --- templates and regular slots ---------------------------------------------------------------

class ShiftTemplateSerializer(serializers.ModelSerializer):
    slots_taken = serializers.IntegerField(read_only=True, help_text=_("Members holding this regular slot now."))
    requirements = serializers.SerializerMethodField(help_text=_("Seats that need a qualification, in order; the rest are open."))

    class Meta:
        model = ShiftTemplate
        fields = ["id", "name", "week", "weekday", "start_time", "end_time", "capacity", "required_skill", "active", "welcome",
                  "requirements", "slots_taken"]
        read_only_fields = fields

    @extend_schema_field(RequirementSerializer(many=True))
    def get_requirements(self, template):
        return [{"qualification": r.qualification.code, "seats": r.seats} for r in template.requirements.all()]


class ShiftTemplateCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    week = serializers.ChoiceField(choices=WEEK_CHOICES)
    weekday = serializers.ChoiceField(choices=WEEKDAY_CHOICES, help_text=_("0 = Monday ... 6 = Sunday."))
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    capacity = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    required_skill = serializers.CharField(max_length=100, required=False, allow_blank=True)
    welcome = serializers.BooleanField(required=False, default=False, help_text=_("A welcome session (no points; sets welcomed_on)."))
    requirements = RequirementSerializer(many=True, required=False, max_length=50)


class ShiftTemplateUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    week = serializers.ChoiceField(choices=WEEK_CHOICES, required=False)
    weekday = serializers.ChoiceField(choices=WEEKDAY_CHOICES, required=False)
    start_time = serializers.TimeField(required=False)
    end_time = serializers.TimeField(required=False)
    capacity = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    required_skill = serializers.CharField(max_length=100, required=False, allow_blank=True)
    welcome = serializers.BooleanField(required=False, help_text=_("A welcome session (no points; sets welcomed_on)."))
    requirements = RequirementSerializer(
        many=True, required=False, max_length=50,
        help_text=_("The whole list of qualified seats (replaces it); future shifts follow, registrations there stay."),
    )

    def validate_requirements(self, rows):
        # A PATCH is partial, and DRF makes nested fields optional too: each row needs both.
        if any("qualification" not in row or "seats" not in row for row in rows):
            raise serializers.ValidationError(_("Each row names a qualification and its seats."))
        return rows


SEAT_HELP = _("The seat: a qualification code, or null for an open seat. Left out: the rule chooses (the free qualified "
              "seat the member holds, fewest holders first, before an open seat).")
OVERRIDE_HELP = _("Coordinators only, when the coop parameter allows it: seat a member without the qualification; the reason is logged.")


class SlotAssignSerializer(serializers.Serializer):
    member = serializers.PrimaryKeyRelatedField(queryset=MEMBERS)
    start_date = serializers.DateField(required=False, help_text=_("Default: today."))
    seat = QualificationCodeField(required=False, allow_null=True, help_text=SEAT_HELP)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="", help_text=OVERRIDE_HELP)


class SlotSerializer(serializers.ModelSerializer):
    seat = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = SlotAssignment
        fields = ["id", "member", "template", "start_date", "end_date", "seat"]
        read_only_fields = fields


# --- shifts and registrations -----------------------------------------------------------------

class RegistrationSerializer(serializers.ModelSerializer):
    offered = serializers.SerializerMethodField(help_text=_("Offered on the exchange."))
    seat = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True,
                                        help_text=_("The qualification of the seat taken; null: an open seat."))

    class Meta:
        model = Registration
        fields = ["id", "shift", "member", "kind", "attendance", "offered", "seat"]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_offered(self, registration) -> bool:
        return registration.offered_at is not None


class ShiftSerializer(serializers.ModelSerializer):
    """A shift with its seats. `seat_facts` in the context (shift id -> selectors.SeatFacts) keeps
    a page of shifts at a constant number of queries."""

    seats_taken = serializers.IntegerField(read_only=True)
    offered = serializers.BooleanField(read_only=True, help_text=_("A registration on it is offered on the exchange."))
    requirements = serializers.SerializerMethodField(help_text=_("Seats that need a qualification, in order; the rest are open."))
    seats_free = serializers.SerializerMethodField(help_text=_("Free seats per qualification code."))
    open = serializers.SerializerMethodField(help_text=_("Free open seats."))
    no_leader = serializers.SerializerMethodField(help_text=_("A qualified seat is still empty within the coop's warning days."))

    class Meta:
        model = Shift
        fields = ["id", "template", "name", "date", "week", "start", "end", "capacity", "seats_taken", "offered", "cancelled",
                  "welcome", "requirements", "seats_free", "open", "no_leader"]
        read_only_fields = fields

    def _facts(self, shift):
        facts = self.context.get("seat_facts")
        if facts is None or shift.pk not in facts:
            from .selectors import seat_facts

            facts = seat_facts([shift])
            self.context["seat_facts"] = {**(self.context.get("seat_facts") or {}), **facts}
        return facts[shift.pk]

    @extend_schema_field(RequirementSerializer(many=True))
    def get_requirements(self, shift):
        return [{"qualification": q.code, "seats": n} for q, n in self._facts(shift).requirements]

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField(min_value=0)))
    def get_seats_free(self, shift):
        free = self._facts(shift).free
        return {q.code: free[q.pk] for q, _n in self._facts(shift).requirements}

    @extend_schema_field(serializers.IntegerField(min_value=0))
    def get_open(self, shift) -> int:
        return self._facts(shift).free[None]

    @extend_schema_field(serializers.BooleanField())
    def get_no_leader(self, shift) -> bool:
        from .selectors import flags_no_leader, no_leader_days

        if "no_leader_days" not in self.context:
            self.context["no_leader_days"] = no_leader_days()
        now = self.context.get("now")
        today = self.context.get("today")
        if now is None or today is None:
            return False
        return flags_no_leader(shift, self._facts(shift), now=now, today=today, days=self.context["no_leader_days"])


class ShiftDetailSerializer(ShiftSerializer):
    """The shift with its roster (coordinators and the shift's own members only)."""

    registrations = RegistrationSerializer(many=True, read_only=True, source="live_registrations")

    class Meta(ShiftSerializer.Meta):
        fields = [*ShiftSerializer.Meta.fields, "registrations"]
        read_only_fields = fields


class ShiftRangeSerializer(serializers.Serializer):
    """`?start=&end=`: inclusive dates, both optional."""

    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": [_("The end date is before the start date.")]})
        return attrs


class MemberRefSerializer(serializers.Serializer):
    """A member acting on a shift; cooperators may leave it out to mean themselves."""

    member = serializers.PrimaryKeyRelatedField(queryset=MEMBERS, required=False)


class BookSerializer(MemberRefSerializer):
    seat = QualificationCodeField(required=False, allow_null=True, help_text=SEAT_HELP)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="", help_text=OVERRIDE_HELP)


class TakeSerializer(MemberRefSerializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="", help_text=OVERRIDE_HELP)


class AttendanceSerializer(serializers.Serializer):
    member = serializers.PrimaryKeyRelatedField(queryset=MEMBERS)
    state = serializers.ChoiceField(choices=Registration.Attendance.values)


# --- member decisions -------------------------------------------------------------------------

class PeriodSerializer(serializers.Serializer):
    """A current leave or exemption on the member object."""

    id = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField(allow_null=True)
    reason = serializers.CharField()


class LeaveSerializer(serializers.ModelSerializer):
    class Meta:
        model = Leave
        fields = ["id", "member", "start", "end", "reason", "created_at"]
        read_only_fields = fields


class ExemptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Exemption
        fields = ["id", "member", "start", "end", "reason", "created_at"]
        read_only_fields = fields


class LeaveCreateSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    reason = serializers.CharField(max_length=2000)


class ExemptionCreateSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(required=False, allow_null=True, default=None, help_text=_("Leave out for open-ended."))
    reason = serializers.CharField(max_length=2000)


class PeriodEndSerializer(serializers.Serializer):
    end = serializers.DateField()


class ExtensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Extension
        fields = ["id", "member", "granted_on", "start", "end", "reason"]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class OptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReenrolSerializer(serializers.Serializer):
    template = serializers.PrimaryKeyRelatedField(
        queryset=ShiftTemplate.objects.all(), required=False, allow_null=True, default=None,
        help_text=_("The new regular slot of a standard member."),
    )


class CorrectionCreateSerializer(serializers.Serializer):
    counter = serializers.ChoiceField(choices=[("standard", _("Standard")), ("ftop", _("FTOP"))])
    points = serializers.IntegerField(min_value=-50, max_value=50)
    reason = serializers.CharField(max_length=2000)


class CounterEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CounterEvent
        fields = ["id", "date", "kind", "standard_points", "ftop_points", "shift", "cycle_start", "reverses", "reason", "created_at"]
        read_only_fields = fields


class CorrectionSerializer(serializers.Serializer):
    """The ledger rows a correction wrote (the correction, then any automatic transfer)."""

    events = CounterEventSerializer(many=True)
    counters = CountersSerializer()


class StatusChangeSerializer(serializers.ModelSerializer):
    from_status = serializers.CharField(help_text=_("A working status, or not_concerned."))
    to_status = serializers.CharField(help_text=_("A working status, or not_concerned."))

    class Meta:
        model = StatusChange
        fields = ["id", "from_status", "to_status", "effective_date", "written_at", "cause"]
        read_only_fields = fields


class HistorySerializer(serializers.Serializer):
    counter_events = CounterEventSerializer(many=True, help_text=_("Newest first."))
    status_history = StatusChangeSerializer(many=True, help_text=_("Newest first."))


# --- the member object, with the shift engine's fields ----------------------------------------

def _period(row) -> dict | None:
    if row is None:
        return None
    return {"id": row.pk, "start": row.start, "end": row.end, "reason": row.reason}


class WorkingMemberSerializer(MemberSerializer):
    """MemberSerializer with `regular_slot`, `leave` and `exemption` filled, and the
    qualifications held today and the welcome date (DOMAIN.md §9).

    Reads the lists prefetched by `shifts.api.with_shift_facts` (current or future slots, current
    leaves and exemptions, qualifications held as of the context's `today`); falls back to a query
    when absent.
    """

    qualifications = serializers.SerializerMethodField(help_text=_("Codes of the qualifications held today."))

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "qualifications", "welcomed_on"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.RegexField(CODE_PATTERN)))
    def get_qualifications(self, member) -> list[str]:
        return quals.held_codes_today(member, self._today())

    def _today(self) -> datetime.date:
        from coopmarket.dates import coop_today

        return self.context.get("today") or coop_today()

    @extend_schema_field(serializers.IntegerField(allow_null=True, help_text=_("Template id of the current or next regular slot.")))
    def get_regular_slot(self, member):
        today = self._today()
        slots = getattr(member, "open_slots", None)
        if slots is None:
            slots = [s for s in member.slots.all() if s.end_date is None or s.end_date > today]
        slots = sorted(slots, key=lambda s: s.start_date)
        current = [s for s in slots if s.start_date <= today]
        chosen = current[-1] if current else (slots[0] if slots else None)
        return chosen.template_id if chosen else None

    @extend_schema_field(PeriodSerializer(allow_null=True))
    def get_leave(self, member):
        today = self._today()
        if hasattr(member, "current_leave"):  # annotated by shifts.api.with_shift_facts
            return PeriodSerializer(member.current_leave).data if member.current_leave else None
        rows = list(member.leaves.filter(start__lte=today, end__gte=today))
        return PeriodSerializer(_period(rows[0])).data if rows else None

    @extend_schema_field(PeriodSerializer(allow_null=True))
    def get_exemption(self, member):
        today = self._today()
        if hasattr(member, "current_exemption"):
            return PeriodSerializer(member.current_exemption).data if member.current_exemption else None
        rows = [e for e in member.exemptions.filter(start__lte=today) if e.end is None or e.end >= today]
        return PeriodSerializer(_period(rows[0])).data if rows else None
