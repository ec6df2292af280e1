"""The API router: every app's viewsets under /api/v1/ (CONTRACT.md §5), and the token endpoint."""
import datetime

from django.contrib.auth import authenticate
from django.urls import include, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from assemblies.api import AssemblyViewSet
from figures.api import FiguresView
from interchange.api import ImportView
from inventory.api import ProductViewSet, SupplierViewSet
from members.api import ShareClassViewSet
from members.models import CoopParameters
from shifts.api import QualificationViewSet, ShiftTemplateViewSet, ShiftViewSet, WorkingMemberViewSet

from . import roles, tokens
from .authentication import TokenAuthentication

router = DefaultRouter(trailing_slash=True)
router.register("members", WorkingMemberViewSet, basename="member")
router.register("share-classes", ShareClassViewSet, basename="share-class")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("products", ProductViewSet, basename="product")
router.register("shift-templates", ShiftTemplateViewSet, basename="shift-template")
router.register("shifts", ShiftViewSet, basename="shift")
router.register("qualifications", QualificationViewSet, basename="qualification")
router.register("assemblies", AssemblyViewSet, basename="assembly")


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=gettext_lazy("Send it as `Authorization: Token <token>`. Shown once."))
    expiry = serializers.DateTimeField(help_text=gettext_lazy("The token stops working then."))


def token_lifetime(user) -> datetime.timedelta:
    """Till device accounts (`cashiers`) keep a token longer (coop parameters)."""
    params = CoopParameters.current()
    days = params.device_token_days if roles.is_cashier(user) and not user.is_superuser else params.token_days
    return datetime.timedelta(days=days)


class TokenView(APIView):
    """POST {"username", "password"} -> {"token", "expiry"}; DELETE revokes the calling token."""

    authentication_classes = [TokenAuthentication]  # no session: no CSRF on the sign-in itself
    permission_classes = [permissions.AllowAny]
    throttle_classes = []  # guessing is slowed by the sign-in lockout (django-axes), per user and address

    @extend_schema(request=CredentialsSerializer, responses={
        200: TokenSerializer,
        400: OpenApiResponse(description="Wrong username or password."),
        429: OpenApiResponse(description="Too many failed sign-ins: locked out for a while."),
    }, auth=[])
    def post(self, request):
        data = CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request._request, **data.validated_data)
        if user is None or not user.is_active:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Unable to sign in with these credentials.")]}, code="invalid_credentials"
            )
        instance, token = tokens.token_issue(user=user, lifetime=token_lifetime(user))
        return Response({"token": token, "expiry": instance.expiry.isoformat()})

    @extend_schema(request=None, responses={
        204: OpenApiResponse(description="The token used for this call no longer works."),
        401: OpenApiResponse(description="No valid token."),
    })
    def delete(self, request):
        if request.auth is None:
            raise exceptions.NotAuthenticated(_("Call this with the token to revoke."))
        tokens.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("imports/", ImportView.as_view(), name="imports"),
    path("figures/", FiguresView.as_view(), name="figures"),
    path("", include("checkout.api_urls")),
    path("", include(router.urls)),
]
