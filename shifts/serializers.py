"""API representations of the shift engine (CONTRACT.md §5): templates, shifts, registrations,
member decisions, and the member object's shift fields."""
from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from members.models import Member
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


# --- templates and regular slots ---------------------------------------------------------------

class ShiftTemplateSerializer(serializers.ModelSerializer):
    slots_taken = serializers.IntegerField(read_only=True, help_text=_("Members holding this regular slot now."))

    class Meta:
        model = ShiftTemplate
        fields = ["id", "name", "week", "weekday", "start_time", "end_time", "capacity", "required_skill", "active", "slots_taken"]
        read_only_fields = fields


class ShiftTemplateCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    week = serializers.ChoiceField(choices=WEEK_CHOICES)
    weekday = serializers.ChoiceField(choices=WEEKDAY_CHOICES, help_text=_("0 = Monday ... 6 = Sunday."))
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    capacity = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    required_skill = serializers.CharField(max_length=100, required=False, allow_blank=True)


class ShiftTemplateUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    week = serializers.ChoiceField(choices=WEEK_CHOICES, required=False)
    weekday = serializers.ChoiceField(choices=WEEKDAY_CHOICES, required=False)
    start_time = serializers.TimeField(required=False)
    end_time = serializers.TimeField(required=False)
    capacity = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    required_skill = serializers.CharField(max_length=100, required=False, allow_blank=True)


class SlotAssignSerializer(serializers.Serializer):
    member = serializers.PrimaryKeyRelatedField(queryset=MEMBERS)
    start_date = serializers.DateField(required=False, help_text=_("Default: today."))


class SlotSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlotAssignment
        fields = ["id", "member", "template", "start_date", "end_date"]
        read_only_fields = fields


# --- shifts and registrations -----------------------------------------------------------------

class RegistrationSerializer(serializers.ModelSerializer):
    offered = serializers.SerializerMethodField(help_text=_("Offered on the exchange."))

    class Meta:
        model = Registration
        fields = ["id", "shift", "member", "kind", "attendance", "offered"]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_offered(self, registration) -> bool:
        return registration.offered_at is not None


class ShiftSerializer(serializers.ModelSerializer):
    seats_taken = serializers.IntegerField(read_only=True)
    offered = serializers.BooleanField(read_only=True, help_text=_("A registration on it is offered on the exchange."))

    class Meta:
        model = Shift
        fields = ["id", "template", "name", "date", "week", "start", "end", "capacity", "seats_taken", "offered", "cancelled"]
        read_only_fields = fields


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
    """MemberSerializer with `regular_slot`, `leave` and `exemption` filled.

    Reads the lists prefetched by `shifts.api.with_shift_facts` (current or future slots, current
    leaves and exemptions as of the context's `today`); falls back to a query when absent.
    """

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
        rows = getattr(member, "current_leaves", None)
        if rows is None:
            rows = list(member.leaves.filter(start__lte=today, end__gte=today))
        return PeriodSerializer(_period(rows[0])).data if rows else None

    @extend_schema_field(PeriodSerializer(allow_null=True))
    def get_exemption(self, member):
        today = self._today()
        rows = getattr(member, "current_exemptions", None)
        if rows is None:
            rows = [e for e in member.exemptions.filter(start__lte=today) if e.end is None or e.end >= today]
        return PeriodSerializer(_period(rows[0])).data if rows else None
