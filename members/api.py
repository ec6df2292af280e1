"""Members API (CONTRACT.md §5). Views parse input, call one service and render."""
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from coopmarket import roles
from coopmarket.api_support import IsCoordinator, query_params
from coopmarket.errors import RuleViolation

from . import selectors, services, stripe_payments
from .models import Associate, Member, ShareClass
from .serializers import (
    AssociateCreateSerializer,
    AssociateSerializer,
    MemberCreateSerializer,
    MemberListQuerySerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
    ReasonSerializer,
    ShareClassSerializer,
    SubscribeSerializer,
    SubscriptionSerializer,
)


def local_today():
    return timezone.localdate()


class ShareCheckoutSerializer(SubscribeSerializer):
    """share_class (code or id) and quantity; an online payment is always the whole amount at once."""

    payment_method = None
    paid_on = None
    instalments = None
    reference = None


class CheckoutStartedSerializer(serializers.Serializer):
    checkout_url = serializers.URLField()
    session_id = serializers.CharField()


class StripeUnavailable(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "Stripe could not be reached."
    default_code = "stripe_error"


class IsCoordinatorOrSelf(permissions.BasePermission):
    """Coordinators, or the member themself for the object (read-only actions decide per view)."""

    def has_permission(self, request, view):
        return request.user.is_authenticated

    def has_object_permission(self, request, view, obj):
        return roles.is_coordinator(request.user) or (obj.user_id is not None and obj.user_id == request.user.pk)


class ShareClassViewSet(viewsets.ReadOnlyModelViewSet):
    """Share classes: any signed-in user may read them."""

    queryset = ShareClass.objects.all()
    serializer_class = ShareClassSerializer
    pagination_class = None


@extend_schema_view(list=extend_schema(parameters=[MemberListQuerySerializer]))
class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = MemberSerializer
    permission_classes = [IsCoordinator]
    lookup_value_regex = r"\d+"
    coordinator_or_self_actions = {"retrieve", "shares_checkout"}

    def get_permissions(self):
        if self.action in self.coordinator_or_self_actions:
            return [IsCoordinatorOrSelf()]
        if self.action == "me":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        qs = selectors.members_for_api().order_by("member_number")
        if self.action != "list":
            return qs
        params = query_params(MemberListQuerySerializer, self.request)
        qs = selectors.member_search(qs, params.get("search", ""))
        for name in ("status", "membership", "shift_type", "low_income"):
            if name in params:
                qs = qs.filter(**{name: params[name]})
        if params.get("share_class"):
            qs = qs.filter(
                subscriptions__share_class__code=params["share_class"],
                subscriptions__redemption_requested_on__isnull=True,
            ).distinct()
        return qs

    def _member(self) -> Member:
        return get_object_or_404(Member, pk=self.kwargs["pk"])

    def _render(self, member: Member, code=status.HTTP_200_OK):
        member = selectors.members_for_api().get(pk=member.pk)
        return Response(MemberSerializer(member, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=MemberCreateSerializer, responses={201: MemberSerializer})
    def create(self, request):
        data = MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        joined_on = fields.pop("joined_on", None) or local_today()
        member = services.member_create(joined_on=joined_on, today=local_today(), by=request.user, **fields)
        return self._render(member, status.HTTP_201_CREATED)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def partial_update(self, request, pk=None):
        member = self._member()
        data = MemberUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.member_update(
            member=member, by=request.user, today=local_today(), site_url=request.build_absolute_uri("/"),
            **data.validated_data,
        )
        return self._render(member)

    @extend_schema(responses=MemberSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request):
        member = Member.objects.filter(user=request.user).first()
        if member is None:
            raise exceptions.NotFound(_("Your account is not linked to a member."))
        return self._render(member)

    @extend_schema(request=SubscribeSerializer, responses={201: SubscriptionSerializer})
    @action(detail=True, methods=["post"])
    def shares(self, request, pk=None):
        member = self._member()
        data = SubscribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.share_subscribe(member=member, today=local_today(), by=request.user, **data.validated_data)
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ShareCheckoutSerializer, responses={201: CheckoutStartedSerializer})
    @action(detail=True, methods=["post"], url_path="shares/checkout")
    def shares_checkout(self, request, pk=None):
        """Start a Stripe Checkout for shares (coordinators and the member; 409 when online payment is off)."""
        member = self._member()
        self.check_object_permissions(request, member)
        if not stripe_payments.online_payment_enabled():
            raise RuleViolation("not_allowed", _("Online payment is not set up for this coop (no Stripe keys)."))
        data = ShareCheckoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = request.build_absolute_uri(reverse("members:stripe_success")) + "?session_id={CHECKOUT_SESSION_ID}"
        cancelled = request.build_absolute_uri(reverse("members:stripe_cancel")) + "?session_id={CHECKOUT_SESSION_ID}"
        try:
            checkout = stripe_payments.checkout_start(
                member=member, share_class=data.validated_data["share_class"], quantity=data.validated_data["quantity"],
                success_url=done, cancel_url=cancelled, by=request.user,
            )
        except stripe_payments.StripeFailure as exc:
            raise StripeUnavailable(exc.message) from exc
        return Response({"checkout_url": checkout.checkout_url, "session_id": checkout.session_id}, status=status.HTTP_201_CREATED)

    @extend_schema(request=PaymentCreateSerializer, responses={201: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def payments(self, request, pk=None):
        member = self._member()
        data = PaymentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if fields["subscription"].member_id != member.pk:
            raise exceptions.ValidationError({"subscription": [_("This subscription belongs to another member.")]})
        payment = services.payment_record(
            subscription=fields["subscription"], amount=fields["amount"], method=fields["payment_method"],
            paid_on=fields.get("paid_on"), reference=fields["reference"], today=local_today(), by=request.user,
        )
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AssociateCreateSerializer, responses={201: AssociateSerializer})
    @action(detail=True, methods=["post"])
    def associates(self, request, pk=None):
        member = self._member()
        data = AssociateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        associate = services.associate_add(member=member, by=request.user, **data.validated_data)
        return Response(AssociateSerializer(associate).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"associates/(?P<associate_id>\d+)")
    def associate_remove(self, request, pk=None, associate_id=None):
        associate = get_object_or_404(Associate, pk=associate_id, member_id=pk, removed_on__isnull=True)
        services.associate_remove(associate=associate, today=local_today(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ReasonSerializer, responses=MemberSerializer)
    @action(detail=True, methods=["post"], url_path="leave-coop")
    def leave_coop(self, request, pk=None):
        member = self._member()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            services.member_leave(member=member, reason=data.validated_data["reason"], today=local_today(), by=request.user)
        return self._render(member)
