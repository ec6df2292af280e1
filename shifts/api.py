"""Shifts API (CONTRACT.md §5): templates, regular slots, shifts, bookings, attendance, the
exchange, and the member decisions (extra actions on the members API).

Views parse input, call one service from `shifts.services` and render. The clock is read only
here, through `clock_now()` / `clock_today()` (tests replace them), once per request.
"""
from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import JSONObject
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from coopmarket import roles
from coopmarket.api_support import IsCoordinator
from coopmarket.dates import coop_today
from members import qualifications as quals
from members import selectors as member_selectors
from members import services as member_services
from members.api import MemberViewSet
from members.models import Member, MemberQualification, Qualification
from members.serializers import MemberCreateSerializer, MemberUpdateSerializer

from . import seats as seat_rules
from . import selectors, services
from .models import CounterEvent, Exemption, Leave, Registration, Shift, ShiftTemplate, SlotAssignment, StatusChange
from .serializers import (
    AttendanceSerializer,
    BookSerializer,
    CorrectionCreateSerializer,
    CorrectionSerializer,
    ExemptionCreateSerializer,
    ExemptionSerializer,
    ExtensionSerializer,
    GrantSerializer,
    HistorySerializer,
    LeaveCreateSerializer,
    LeaveSerializer,
    MemberQualificationSerializer,
    MemberRefSerializer,
    OptionalReasonSerializer,
    PeriodEndSerializer,
    QualificationCreateSerializer,
    QualificationSerializer,
    QualificationUpdateSerializer,
    ReasonSerializer,
    ReenrolSerializer,
    RegistrationSerializer,
    RevokeSerializer,
    ShiftDetailSerializer,
    ShiftRangeSerializer,
    ShiftSerializer,
    ShiftTemplateCreateSerializer,
    ShiftTemplateSerializer,
    ShiftTemplateUpdateSerializer,
    SlotAssignSerializer,
    SlotSerializer,
    TakeSerializer,
    WorkingMemberSerializer,
)

LIVE = Q(cancelled_at__isnull=True)


# --- the clock and who acts -------------------------------------------------------------------

def clock_now() -> datetime.datetime:
    return timezone.now()


def clock_today() -> datetime.date:
    return coop_today()


class ClockMixin:
    """Reads the clock once per request: `self.now`, `self.today`."""

    def initial(self, request, *args, **kwargs):
        self._now, self._today = clock_now(), clock_today()
        super().initial(request, *args, **kwargs)

    @property
    def now(self) -> datetime.datetime:
        return getattr(self, "_now", None) or clock_now()

    @property
    def today(self) -> datetime.date:
        return getattr(self, "_today", None) or clock_today()


def own_member(request) -> Member | None:
    """The member linked to the signed-in user (Member.user), cached on the request."""
    if not hasattr(request, "_coop_member"):
        user = request.user
        request._coop_member = Member.objects.filter(user_id=user.pk).first() if user.is_authenticated else None
    return request._coop_member


def require_coordinator_or_member(request) -> None:
    """Write endpoints open to "the member": users with no member (cashiers, supply) get 403."""
    if not roles.is_coordinator(request.user) and own_member(request) is None:
        raise exceptions.PermissionDenied(_("Only coordinators and members can do this."))


def acting_for(request, member: Member | None) -> Member:
    """The member a request acts for: coordinators act for anyone, a cooperator only for themself.
    Left out, `member` means the signed-in member."""
    own = own_member(request)
    if member is None:
        if own is None:
            raise exceptions.ValidationError({"member": [_("This field is required.")]})
        return own
    if not roles.is_coordinator(request.user) and (own is None or own.pk != member.pk):
        raise exceptions.PermissionDenied(_("You can only do this for yourself."))
    return member


def with_shift_facts(queryset, *, today: datetime.date):
    """Members with what WorkingMemberSerializer reads: slots current or future and the
    qualifications held today (two queries whatever the number of members), and the leave and the
    exemption covering `today` (annotations of the members query: no query of their own).

    A slot whose last day is today counts as gone: the services end a removed, unsubscribed or
    left member's slot on the day itself, cancelling that day's registrations."""
    def current(model, condition):
        rows = model.objects.filter(condition, member=OuterRef("pk"), start__lte=today).order_by("start", "pk")
        return Subquery(rows.values(period=JSONObject(id="id", start="start", end="end", reason="reason"))[:1])

    queryset = queryset.annotate(
        current_leave=current(Leave, Q(end__gte=today)),
        current_exemption=current(Exemption, Q(end__isnull=True) | Q(end__gte=today)),
    )
    return queryset.prefetch_related(
        Prefetch(
            "slots", queryset=SlotAssignment.objects.filter(Q(end_date__isnull=True) | Q(end_date__gt=today)),
            to_attr="open_slots",
        ),
        Prefetch(
            "qualification_grants", queryset=MemberQualification.objects.filter(quals.held_q(today)).select_related("qualification"),
            to_attr="qualifications_today",
        ),
    )


# --- shift templates and regular slots ---------------------------------------------------------

class ShiftTemplateViewSet(ClockMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Templates of the ABCD cycle: any signed-in user reads them, coordinators change them."""

    serializer_class = ShiftTemplateSerializer
    lookup_value_regex = r"\d+"

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.IsAuthenticated()]
        return [IsCoordinator()]

    def get_queryset(self):
        return selectors.templates_with_slots().prefetch_related("requirements__qualification")

    def _render(self, template: ShiftTemplate, code=status.HTTP_200_OK):
        return Response(ShiftTemplateSerializer(self.get_queryset().get(pk=template.pk)).data, status=code)

    @staticmethod
    def _requirements(fields: dict):
        rows = fields.pop("requirements", None)
        return None if rows is None else [(row["qualification"], row["seats"]) for row in rows]

    @extend_schema(request=ShiftTemplateCreateSerializer, responses={201: ShiftTemplateSerializer})
    def create(self, request):
        data = ShiftTemplateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        requirements = self._requirements(fields)
        welcome = fields.pop("welcome", False)
        with transaction.atomic():
            template = services.template_create(**fields)
            if welcome:
                template = services.template_update(template=template, now=self.now, welcome=True)
            if requirements:
                template = services.template_requirements_set(template=template, requirements=requirements, now=self.now, by=request.user)
        return self._render(template, status.HTTP_201_CREATED)

    @extend_schema(request=ShiftTemplateUpdateSerializer, responses=ShiftTemplateSerializer)
    def partial_update(self, request, pk=None):
        """Change a template; `requirements` replaces its qualified seats (future shifts follow)."""
        template = get_object_or_404(ShiftTemplate, pk=pk)
        data = ShiftTemplateUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        requirements = self._requirements(fields)
        with transaction.atomic():
            if requirements is not None:
                template = services.template_requirements_set(template=template, requirements=requirements, now=self.now, by=request.user)
            if fields:
                template = services.template_update(template=template, now=self.now, **fields)
        return self._render(template)

    @extend_schema(request=SlotAssignSerializer, responses={201: SlotSerializer})
    @action(detail=True, methods=["post"], url_path="members")
    def members(self, request, pk=None):
        """Give a standard member this regular slot (409 `slot_full`, `shift_full` with the dates,
        `not_qualified`, `welcome_first`)."""
        template = get_object_or_404(ShiftTemplate, pk=pk)
        data = SlotAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        slot = services.slot_assign(
            template=template, member=data.validated_data["member"],
            start_date=data.validated_data.get("start_date") or self.today, today=self.today, by=request.user,
            seat=data.validated_data.get("seat", seat_rules.AUTO), reason=data.validated_data["reason"],
        )
        return Response(SlotSerializer(slot).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<member_id>\d+)")
    def member_remove(self, request, pk=None, member_id=None):
        """Remove the slot: future regular registrations are cancelled without points."""
        template = get_object_or_404(ShiftTemplate, pk=pk)
        member = get_object_or_404(Member, pk=member_id)
        services.slot_remove(template=template, member=member, today=self.today, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- shifts, bookings, attendance, exchange ----------------------------------------------------

SHIFT_OR_ROSTER = PolymorphicProxySerializer(
    component_name="ShiftWithOptionalRoster",
    serializers=[ShiftDetailSerializer, ShiftSerializer],
    resource_type_field_name=None,
)


@extend_schema_view(
    list=extend_schema(parameters=[
        OpenApiParameter("start", datetime.date, description="First date (inclusive)."),
        OpenApiParameter("end", datetime.date, description="Last date (inclusive)."),
    ]),
)
class ShiftViewSet(ClockMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Dated shifts. Reading is open to any signed-in user; the roster only to coordinators and
    the shift's members. Members act for themselves, coordinators for anyone."""

    serializer_class = ShiftSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d+"
    coordinator_actions = {"attendance", "attendance_bulk"}

    def get_permissions(self):
        if self.action in self.coordinator_actions:
            return [IsCoordinator()]
        return super().get_permissions()

    def get_queryset(self):
        qs = selectors.shifts_with_seats(now=self.now)
        if self.action == "retrieve":
            qs = qs.prefetch_related(
                Prefetch("registrations", queryset=Registration.objects.filter(LIVE).order_by("id"), to_attr="live_registrations")
            )
        if self.action == "list":
            window = ShiftRangeSerializer(data=self.request.query_params)
            window.is_valid(raise_exception=True)
            if window.validated_data.get("start"):
                qs = qs.filter(date__gte=window.validated_data["start"])
            if window.validated_data.get("end"):
                qs = qs.filter(date__lte=window.validated_data["end"])
        return qs

    def _shift(self) -> Shift:
        return get_object_or_404(Shift, pk=self.kwargs["pk"])

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": self.now, "today": self.today}

    def list(self, request, *args, **kwargs):
        """Shifts of the range, each with its seats (a constant number of queries per page)."""
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(), "seat_facts": selectors.seat_facts(page)}
        return self.get_paginated_response(ShiftSerializer(page, many=True, context=context).data)

    def _acting(self, serializer_class) -> tuple[dict, Member, bool]:
        """The request's validated body, the member it acts for, and whether a coordinator acts."""
        require_coordinator_or_member(self.request)
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        member = acting_for(self.request, data.validated_data.get("member"))
        return data.validated_data, member, roles.is_coordinator(self.request.user)

    def _member_in(self, data_source) -> Member:
        require_coordinator_or_member(self.request)
        data = MemberRefSerializer(data=data_source)
        data.is_valid(raise_exception=True)
        return acting_for(self.request, data.validated_data.get("member"))

    @extend_schema(responses=SHIFT_OR_ROSTER)
    def retrieve(self, request, pk=None):
        shift = self.get_object()
        own = own_member(request)
        sees_roster = roles.is_coordinator(request.user) or (
            own is not None and any(r.member_id == own.pk for r in shift.live_registrations)
        )
        serializer = ShiftDetailSerializer if sees_roster else ShiftSerializer
        return Response(serializer(shift, context=self.get_serializer_context()).data)

    @extend_schema(request=BookSerializer, responses={201: RegistrationSerializer})
    @action(detail=True, methods=["post"])
    def registrations(self, request, pk=None):
        """Book the shift (coordinators may also record a make-up on a past shift). The booking
        takes a seat: `seat` names one, else the rule chooses (409 `not_qualified`, `welcome_first`)."""
        data, member, coordinator = self._acting(BookSerializer)
        registration = services.shift_book(
            shift=self._shift(), member=member, now=self.now, by=request.user, as_coordinator=coordinator,
            seat=data.get("seat", seat_rules.AUTO), reason=data["reason"] if coordinator else "",
        )
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"registrations/(?P<member_id>\d+)")
    def registration_cancel(self, request, pk=None, member_id=None):
        """Cancel at least 24 h ahead (DOMAIN.md §4)."""
        require_coordinator_or_member(request)
        member = acting_for(request, get_object_or_404(Member, pk=member_id))
        services.registration_cancel(shift=self._shift(), member=member, now=self.now, today=self.today, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=AttendanceSerializer, responses=RegistrationSerializer)
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        data = AttendanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.attendance_record(
            shift=self._shift(), member=data.validated_data["member"], state=data.validated_data["state"],
            now=self.now, today=self.today, by=request.user,
        )
        return Response(RegistrationSerializer(registration).data)

    @extend_schema(request=AttendanceSerializer(many=True), responses=RegistrationSerializer(many=True))
    @action(detail=True, methods=["post"], url_path="attendance/bulk")
    def attendance_bulk(self, request, pk=None):
        """All or nothing: one refused entry leaves every attendance as it was."""
        data = AttendanceSerializer(data=request.data, many=True, allow_empty=False)
        data.is_valid(raise_exception=True)
        registrations = services.attendance_record_bulk(
            shift=self._shift(), entries=list(data.validated_data), now=self.now, today=self.today, by=request.user,
        )
        return Response(RegistrationSerializer(registrations, many=True).data)

    @extend_schema(request=MemberRefSerializer, responses={201: RegistrationSerializer})
    @action(detail=True, methods=["post"])
    def offer(self, request, pk=None):
        """Offer one's registration on the exchange (until 24 h before the start)."""
        member = self._member_in(request.data)
        registration = services.shift_offer(shift=self._shift(), member=member, now=self.now, by=request.user)
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=MemberRefSerializer, responses={204: None},
        parameters=[OpenApiParameter("member", int, description="The member (or in the body).")],
    )
    @offer.mapping.delete
    def offer_withdraw(self, request, pk=None):
        member = self._member_in(request.data or request.query_params)
        services.shift_offer_withdraw(shift=self._shift(), member=member, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TakeSerializer, responses={201: RegistrationSerializer})
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        """Take a shift offered on the exchange: the registration moves to the taker, with its seat
        (409 `not_qualified` for a qualified seat the taker does not hold)."""
        data, member, coordinator = self._acting(TakeSerializer)
        registration = services.shift_take(
            shift=self._shift(), member=member, now=self.now, by=request.user, as_coordinator=coordinator,
            reason=data["reason"] if coordinator else "",
        )
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)


# --- the members API with the shift engine's decisions ----------------------------------------

@extend_schema_view(
    create=extend_schema(request=MemberCreateSerializer, responses={201: WorkingMemberSerializer}),
    partial_update=extend_schema(request=MemberUpdateSerializer, responses=WorkingMemberSerializer),
    me=extend_schema(responses=WorkingMemberSerializer),
    leave_coop=extend_schema(request=ReasonSerializer, responses=WorkingMemberSerializer),
)
class WorkingMemberViewSet(ClockMixin, MemberViewSet):
    """MemberViewSet whose member object carries the regular slot, leave and exemption, plus the
    coordinators' decisions on a member's work (DOMAIN.md §4-§5)."""

    serializer_class = WorkingMemberSerializer
    coordinator_or_self_actions = MemberViewSet.coordinator_or_self_actions | {"history", "qualifications"}

    def get_queryset(self):
        return with_shift_facts(super().get_queryset(), today=self.today)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": self.today}

    def _render(self, member: Member, code=status.HTTP_200_OK):
        member = with_shift_facts(member_selectors.members_for_api(), today=self.today).get(pk=member.pk)
        return Response(WorkingMemberSerializer(member, context=self.get_serializer_context()).data, status=code)

    def partial_update(self, request, pk=None):
        """Contact fields through the members app; a shift-type switch through the shift engine's
        rules (409 `not_allowed` while make-ups are owed; `template` names the slot of a switch to
        standard), all in one transaction."""
        member = self._member()
        data = MemberUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        shift_type = fields.pop("shift_type", None)
        template_id = fields.pop("template", None)
        template = None
        if template_id is not None:
            template = ShiftTemplate.objects.filter(pk=template_id, active=True).first()
            if template is None:
                raise exceptions.ValidationError({"template": [_("No active shift template has this id.")]})
            if shift_type is None:
                raise exceptions.ValidationError({"template": [_("A template is given with a switch to standard.")]})
        with transaction.atomic():
            if fields:
                member_services.member_update(member=member, by=request.user, today=self.today, **fields)
            if shift_type is not None:
                services.shift_type_switch(member=member, shift_type=shift_type, template=template, today=self.today, by=request.user)
        return self._render(member)

    @extend_schema(responses=HistorySerializer)
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Counter events and status history, newest first (coordinators and the member)."""
        member = self._member()
        self.check_object_permissions(request, member)
        history = {
            "counter_events": CounterEvent.objects.filter(member=member).order_by("-date", "-id"),
            "status_history": StatusChange.objects.filter(member=member).order_by("-effective_date", "-id"),
        }
        return Response(HistorySerializer(history).data)

    @extend_schema(request=LeaveCreateSerializer, responses={201: LeaveSerializer})
    @action(detail=True, methods=["post"])
    def leaves(self, request, pk=None):
        member = self._member()
        data = LeaveCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        leave = services.leave_create(member=member, today=self.today, now=self.now, by=request.user, **data.validated_data)
        return Response(LeaveSerializer(leave).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PeriodEndSerializer, responses=LeaveSerializer)
    @action(detail=True, methods=["patch"], url_path=r"leaves/(?P<leave_id>\d+)")
    def leave_end(self, request, pk=None, leave_id=None):
        """End a leave early."""
        leave = get_object_or_404(Leave, pk=leave_id, member_id=pk)
        data = PeriodEndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        leave = services.period_end_early(period=leave, end=data.validated_data["end"], today=self.today, by=request.user)
        return Response(LeaveSerializer(leave).data)

    @extend_schema(request=ExemptionCreateSerializer, responses={201: ExemptionSerializer})
    @action(detail=True, methods=["post"])
    def exemptions(self, request, pk=None):
        member = self._member()
        data = ExemptionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        exemption = services.exemption_create(member=member, today=self.today, now=self.now, by=request.user, **data.validated_data)
        return Response(ExemptionSerializer(exemption).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PeriodEndSerializer, responses=ExemptionSerializer)
    @action(detail=True, methods=["patch"], url_path=r"exemptions/(?P<exemption_id>\d+)")
    def exemption_end(self, request, pk=None, exemption_id=None):
        """End an exemption early (or give an open-ended one its end)."""
        exemption = get_object_or_404(Exemption, pk=exemption_id, member_id=pk)
        data = PeriodEndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        exemption = services.period_end_early(period=exemption, end=data.validated_data["end"], today=self.today, by=request.user)
        return Response(ExemptionSerializer(exemption).data)

    @extend_schema(request=ReasonSerializer, responses={201: ExtensionSerializer})
    @action(detail=True, methods=["post"])
    def extensions(self, request, pk=None):
        """28 days of delay (409 `extension_limit`, `not_allowed`)."""
        member = self._member()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        extension = services.extension_grant(member=member, reason=data.validated_data["reason"], today=self.today, by=request.user)
        return Response(ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses=WorkingMemberSerializer)
    @action(detail=True, methods=["post"])
    def block(self, request, pk=None):
        member = self._member()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_block(member=member, reason=data.validated_data["reason"], today=self.today, by=request.user)
        return self._render(member)

    @extend_schema(request=OptionalReasonSerializer, responses=WorkingMemberSerializer)
    @action(detail=True, methods=["post"])
    def unblock(self, request, pk=None):
        member = self._member()
        data = OptionalReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_unblock(member=member, reason=data.validated_data["reason"], today=self.today, by=request.user)
        return self._render(member)

    @extend_schema(request=ReenrolSerializer, responses=WorkingMemberSerializer)
    @action(detail=True, methods=["post"])
    def reenrol(self, request, pk=None):
        member = self._member()
        data = ReenrolSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_reenrol(member=member, template=data.validated_data["template"], today=self.today, by=request.user)
        return self._render(member)

    @extend_schema(request=CorrectionCreateSerializer, responses={201: CorrectionSerializer})
    @action(detail=True, methods=["post"])
    def corrections(self, request, pk=None):
        member = self._member()
        data = CorrectionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = services.correction_write(member=member, today=self.today, by=request.user, **data.validated_data)
        member.refresh_from_db(fields=["counter_standard", "counter_ftop"])
        result = {"events": rows, "counters": {"standard": member.counter_standard, "ftop": member.counter_ftop}}
        return Response(CorrectionSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], request=None, responses=MemberQualificationSerializer(many=True),
        description="Every grant of the member (held, coming, expired or revoked).",
    )
    @extend_schema(methods=["POST"], request=GrantSerializer, responses={201: MemberQualificationSerializer})
    @action(detail=True, methods=["get", "post"], url_path="qualifications")
    def qualifications(self, request, pk=None):
        """Grant a qualification (coordinators): held from `since` (default today), until `until`."""
        member = self._member()
        if request.method == "GET":
            self.check_object_permissions(request, member)
            grants = MemberQualification.objects.filter(member=member).select_related("qualification").order_by("since", "id")
            return Response(MemberQualificationSerializer(grants, many=True).data)
        if not roles.is_coordinator(request.user):
            raise exceptions.PermissionDenied(_("Only coordinators grant qualifications."))
        data = GrantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant = quals.member_qualification_grant(
            member=member, qualification=data.validated_data["qualification"], since=data.validated_data.get("since") or self.today,
            until=data.validated_data["until"], note=data.validated_data["note"], today=self.today, by=request.user,
        )
        return Response(MemberQualificationSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevokeSerializer, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"qualifications/(?P<code>[-a-z0-9_]{1,20})")
    def qualification_revoke(self, request, pk=None, code=None):
        """Revoke a qualification from today (coordinators; 404 when the member does not hold it)."""
        member = self._member()
        qualification = get_object_or_404(Qualification, code=code)
        data = RevokeSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        if not quals.holds_or_will(member, qualification, self.today):
            raise exceptions.NotFound(_("This member does not hold this qualification."))
        quals.member_qualification_revoke(member=member, qualification=qualification, today=self.today,
                                          reason=data.validated_data["reason"], by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QualificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The qualifications the coordinators keep (DOMAIN.md §9): any signed-in user reads them."""

    serializer_class = QualificationSerializer
    lookup_field = "code"
    lookup_value_regex = r"[-a-z0-9_]{1,20}"
    pagination_class = None

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.IsAuthenticated()]
        return [IsCoordinator()]

    def get_queryset(self):
        return quals.qualification_list()

    def _render(self, qualification: Qualification, code=status.HTTP_200_OK):
        return Response(QualificationSerializer(self.get_queryset().get(pk=qualification.pk)).data, status=code)

    @extend_schema(request=QualificationCreateSerializer, responses={201: QualificationSerializer})
    def create(self, request):
        data = QualificationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._render(quals.qualification_create(by=request.user, **data.validated_data), status.HTTP_201_CREATED)

    @extend_schema(request=QualificationUpdateSerializer, responses=QualificationSerializer)
    def partial_update(self, request, code=None):
        qualification = get_object_or_404(Qualification, code=code)
        data = QualificationUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return self._render(quals.qualification_update(qualification=qualification, by=request.user, **data.validated_data))
