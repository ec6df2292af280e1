"""Assemblies API (CONTRACT.md §5): assemblies, convening, voters, proxies, sign-in, resolutions,
tallies and votes from phones. Views parse input, call one service and render; the clock is read
here (`clock_now`, replaced by the tests), once per request."""
from __future__ import annotations

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from coopmarket import roles
from coopmarket.api_support import IsCoordinator
from members.models import Member

from . import selectors, services
from .models import Assembly, Resolution, Voter
from .serializers import (
    AssemblyCreateSerializer,
    AssemblySerializer,
    BallotSerializer,
    DeskVoterSerializer,
    ProxyCreateSerializer,
    ProxySerializer,
    ResolutionCreateSerializer,
    ResolutionSerializer,
    SignInResultSerializer,
    SignInSerializer,
    TallySerializer,
    VotedSerializer,
    VoterSerializer,
)


def clock_now() -> datetime.datetime:
    return timezone.now()


class IsDeskUser(permissions.BasePermission):
    """The sign-in desk: coordinators and till device accounts (`cashiers`)."""

    def has_permission(self, request, view):
        return roles.is_coordinator(request.user) or roles.is_cashier(request.user)


class NotAVoter(exceptions.NotFound):
    default_code = "not_a_voter"


def own_member(request) -> Member | None:
    if not hasattr(request, "_coop_member"):
        user = request.user
        request._coop_member = Member.objects.filter(user_id=user.pk).first() if user.is_authenticated else None
    return request._coop_member


def sign_in_result(assembly: Assembly, member: Member, result: services.SignIn | None = None) -> dict:
    """What the desk shows after a scan: the voter, the proxies they carry, the live quorum."""
    person = selectors.voter_rows(assembly).get(pk=member.pk)
    taken_back = result.proxy_taken_back if result else None
    person.signed_in_now = bool(result and result.signed_in_now)
    person.proxies = [f"{p.giver.full_name} ({p.giver.display_number})" for p in selectors.proxies_carried_by(assembly, member)]
    person.proxy_taken_back = f"{taken_back.holder.full_name} ({taken_back.holder.display_number})" if taken_back else None
    person.quorum = selectors.quorum_of(assembly)
    return SignInResultSerializer(person).data


class AssemblyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Assemblies: any signed-in user reads them; coordinators run them; the desk signs voters in;
    voters give proxies and vote."""

    serializer_class = AssemblySerializer
    lookup_value_regex = r"\d+"
    desk_actions = {"sign_in"}
    member_actions = {"list", "retrieve", "proxies", "proxy_revoke", "vote"}

    def get_permissions(self):
        if self.action in self.desk_actions:
            return [IsDeskUser()]
        if self.action in self.member_actions:
            return [permissions.IsAuthenticated()]
        return [IsCoordinator()]

    def initial(self, request, *args, **kwargs):
        self.now = clock_now()
        self.today = services.local_date(self.now)
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.assemblies_with_counts().order_by("-starts_at", "-id")

    def _context(self, assemblies: list[Assembly]) -> dict:
        return {
            **self.get_serializer_context(),
            "quorums": selectors.quorums(assemblies),
            "resolutions": selectors.resolutions_by_assembly([a.pk for a in assemblies]),
        }

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AssemblySerializer(page, many=True, context=self._context(page)).data)

    def retrieve(self, request, *args, **kwargs):
        return self._render(self._assembly())

    def _assembly(self) -> Assembly:
        return get_object_or_404(Assembly, pk=self.kwargs["pk"])

    def _render(self, assembly: Assembly, code=status.HTTP_200_OK) -> Response:
        assembly = self.get_queryset().get(pk=assembly.pk)
        return Response(AssemblySerializer(assembly, context=self._context([assembly])).data, status=code)

    @extend_schema(request=AssemblyCreateSerializer, responses={201: AssemblySerializer})
    def create(self, request):
        data = AssemblyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["convocation"] = int(fields["convocation"])
        assembly = services.assembly_create(today=self.today, by=request.user, **fields)
        return self._render(assembly, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AssemblySerializer)
    @action(detail=True, methods=["post"])
    def convene(self, request, pk=None):
        """E-mail the convening to every voter (409 `too_late` after the legal delay)."""
        assembly = self._assembly()
        services.assembly_convene(assembly=assembly, today=self.today, now=self.now, by=request.user)
        return self._render(assembly)

    @extend_schema(request=None, responses=AssemblySerializer)
    @action(detail=True, methods=["post"], url_path="open")
    def open_assembly(self, request, pk=None):
        """The bureau opens the assembly (its first sign-in does it too)."""
        assembly = self._assembly()
        services.assembly_open(assembly=assembly, today=self.today, now=self.now, by=request.user)
        return self._render(assembly)

    @extend_schema(request=None, responses=AssemblySerializer)
    @action(detail=True, methods=["post"], url_path="close")
    def close_assembly(self, request, pk=None):
        assembly = self._assembly()
        services.assembly_close(assembly=assembly, now=self.now, by=request.user)
        return self._render(assembly)

    @extend_schema(responses=VoterSerializer(many=True), parameters=[
        OpenApiParameter("present", bool, description="Only voters signed in (true) or not (false)."),
    ])
    @action(detail=True, methods=["get"])
    def voters(self, request, pk=None):
        """The voter list (frozen at the cut-off; before it, the members who would vote now)."""
        assembly = self._assembly()
        rows = selectors.voter_rows(assembly)
        present = request.query_params.get("present")
        if present in ("true", "1"):
            rows = rows.filter(present_at__isnull=False)
        elif present in ("false", "0"):
            rows = rows.filter(present_at__isnull=True)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(VoterSerializer(page, many=True).data)

    # --- proxies -------------------------------------------------------------------------------

    def _acting_giver(self, request, giver: Member | None) -> Member:
        """Coordinators act for any giver; a cooperator only for themself (default: me)."""
        own = own_member(request)
        if roles.is_coordinator(request.user):
            if giver is None and own is None:
                raise exceptions.ValidationError({"giver": [_("This field is required.")]})
            return giver or own
        if own is None:
            raise exceptions.PermissionDenied(_("Only coordinators and members can do this."))
        if giver is not None and giver.pk != own.pk:
            raise exceptions.PermissionDenied(_("You can only give or revoke your own proxy."))
        return own

    @extend_schema(request=ProxyCreateSerializer, responses={201: ProxySerializer})
    @action(detail=True, methods=["post"])
    def proxies(self, request, pk=None):
        assembly = self._assembly()
        data = ProxyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        giver = self._acting_giver(request, data.validated_data.get("giver"))
        proxy = services.proxy_give(assembly=assembly, giver=giver, holder=data.validated_data["holder"],
                                    today=self.today, now=self.now, by=request.user)
        return Response(ProxySerializer(proxy).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"proxies/(?P<giver_id>\d+)")
    def proxy_revoke(self, request, pk=None, giver_id=None):
        assembly = self._assembly()
        giver = self._acting_giver(request, get_object_or_404(Member, pk=giver_id))
        services.proxy_revoke(assembly=assembly, giver=giver, now=self.now, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- the door ------------------------------------------------------------------------------

    @extend_schema(
        methods=["POST"], request=SignInSerializer, responses=SignInResultSerializer,
        description="Sign a voter in by card barcode (12 or 13 digits), member number, or member id. 404: not a voter.",
    )
    @extend_schema(
        methods=["GET"], responses=DeskVoterSerializer(many=True),
        parameters=[OpenApiParameter("search", str, description="A name (accent-insensitive), at least two letters.")],
        description="The desk's name search among the voters (at most 20).",
    )
    @action(detail=True, methods=["get", "post"], url_path="sign-in")
    def sign_in(self, request, pk=None):
        assembly = self._assembly()
        if request.method == "GET":
            found = selectors.voter_search(assembly, request.query_params.get("search", "")[:100])
            return Response(DeskVoterSerializer(found, many=True).data)
        data = SignInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = data.validated_data.get("member")
        if member is None:
            member, associate = selectors.find_member_by_code(data.validated_data["code"])
            if associate:
                raise NotAVoter(_("This is a household associate's card: associates do not vote."))
            if member is None:
                raise exceptions.NotFound(_("Unknown card or member number."))
        try:
            result = services.voter_sign_in(assembly=assembly, member=member, today=self.today, now=self.now, by=request.user)
        except Voter.DoesNotExist:
            raise NotAVoter(_("%(name)s is not a voter of this assembly.") % {"name": member.full_name}) from None
        assembly.refresh_from_db()  # frozen and opened by the service
        return Response(sign_in_result(assembly, member, result))

    # --- resolutions and votes -----------------------------------------------------------------

    def _resolution(self, rid) -> Resolution:
        return get_object_or_404(Resolution.objects.select_related("assembly"), pk=rid, assembly_id=self.kwargs["pk"])

    def _render_resolution(self, resolution: Resolution, code=status.HTTP_200_OK) -> Response:
        resolution = next(r for r in selectors.resolutions_with_turnout(resolution.assembly) if r.pk == resolution.pk)
        return Response(ResolutionSerializer(resolution).data, status=code)

    @extend_schema(request=ResolutionCreateSerializer, responses={201: ResolutionSerializer})
    @action(detail=True, methods=["post"])
    def resolutions(self, request, pk=None):
        assembly = self._assembly()
        data = ResolutionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        resolution = services.resolution_add(assembly=assembly, by=request.user, **data.validated_data)
        return self._render_resolution(resolution, status.HTTP_201_CREATED)

    @extend_schema(request=TallySerializer, responses=ResolutionSerializer)
    @action(detail=True, methods=["post"], url_path=r"resolutions/(?P<rid>\d+)/tally")
    def tally(self, request, pk=None, rid=None):
        """The bureau's counts; 400 when they exceed the voters present + represented."""
        resolution = self._resolution(rid)
        data = TallySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        counts = data.validated_data
        services.resolution_tally(resolution=resolution, votes_for=counts["for"], votes_against=counts["against"],
                                  votes_abstain=counts["abstain"], now=self.now, by=request.user)
        return self._render_resolution(resolution)

    @extend_schema(request=None, responses=ResolutionSerializer)
    @action(detail=True, methods=["post"], url_path=r"resolutions/(?P<rid>\d+)/open")
    def resolution_open(self, request, pk=None, rid=None):
        resolution = services.resolution_open(resolution=self._resolution(rid), now=self.now, by=request.user)
        return self._render_resolution(resolution)

    @extend_schema(request=None, responses=ResolutionSerializer)
    @action(detail=True, methods=["post"], url_path=r"resolutions/(?P<rid>\d+)/close")
    def resolution_close(self, request, pk=None, rid=None):
        resolution = services.resolution_close(resolution=self._resolution(rid), now=self.now, by=request.user)
        return self._render_resolution(resolution)

    @extend_schema(request=BallotSerializer(many=True), responses=VotedSerializer)
    @action(detail=True, methods=["post"], url_path=r"resolutions/(?P<rid>\d+)/vote")
    def vote(self, request, pk=None, rid=None):
        """A present voter's own vote and one per proxy they carry, once (409 `already_voted`);
        403 for a member whose proxy they do not carry."""
        resolution = self._resolution(rid)
        member = own_member(request)
        if member is None:
            raise exceptions.PermissionDenied(_("Only voters signed in at the assembly can vote."))
        if not isinstance(request.data, list):
            raise exceptions.ValidationError({"ballots": [_('Send a list: [{"choice": "for", "for_member": id}, ...].')]})
        data = BallotSerializer(data=request.data, many=True)
        data.is_valid(raise_exception=True)
        try:
            voted = services.votes_cast(resolution=resolution, voter=member, ballots=[dict(b) for b in data.validated_data])
        except services.NotYourVote as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response({"resolution": resolution.pk, "voted_for": voted})

