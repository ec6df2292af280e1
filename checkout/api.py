"""Till API (CONTRACT.md §5): eligibility by code, name search, the offline card list, overrides."""
import gzip

from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from coopmarket.authentication import TokenAuthentication
from coopmarket.throttling import MemberRateThrottle, TillMemberRateThrottle

from . import cardlist, services
from .models import TillCheck


class IsTillUser(permissions.BasePermission):
    message = gettext_lazy("Only cashiers, coordinators and members on a shift running now may use the till.")

    def has_permission(self, request, view):
        return services.may_use_till(request.user, now=timezone.now())


class WarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["alert", "delay"])
    makeups_owed = serializers.IntegerField(required=False)
    deadline = serializers.DateField(required=False, allow_null=True)
    until = serializers.DateField(required=False, allow_null=True)


class CardSerializer(serializers.Serializer):
    """One card of the offline list: the answer without the sentence (the till page writes it)."""

    card_barcode = serializers.CharField()
    display_name = serializers.CharField()
    associate = serializers.BooleanField()
    can_shop = serializers.BooleanField()
    status = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    warnings = WarningSerializer(many=True)
    colour = serializers.ChoiceField(choices=["green", "orange", "red"])


class EligibilitySerializer(CardSerializer):
    """The online answer: a card with the member's number, the sentence and the time."""

    member_number = serializers.IntegerField()
    message = serializers.CharField()
    checked_at = serializers.DateTimeField()


class IsTillDevice(permissions.BasePermission):
    """The offline card list: till device accounts (`cashiers`) and coordinators only; members on
    a shift use the online till (DOMAIN.md §6)."""

    message = gettext_lazy("Only till device accounts and coordinators may download the card list.")

    def has_permission(self, request, view):
        return services.may_hold_card_list(request.user)


class CheckoutBase(APIView):
    permission_classes = [IsTillUser]
    # A member on shift has a budget of lookups; cashiers and coordinators are never throttled.
    throttle_classes = [MemberRateThrottle, TillMemberRateThrottle]


class TillSearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(min_length=2, max_length=100, help_text=gettext_lazy("At least two letters of a name."))


CODE = OpenApiParameter(
    "code", str, OpenApiParameter.PATH, pattern=r"^\d{1,13}$",
    description=gettext_lazy("A card barcode (13 digits, or 12 when the scanner drops the leading 0) or a member number."),
)


class TillAuthentication(TokenAuthentication):
    """The till's token check for a lookup, which also reads the scanned code's member in the same
    statement (`services.member_join`): a scan costs one round trip to the database, not two.
    Nothing changes in who may ask: the token is checked as everywhere, the permission and the
    throttles run after it, and the member read is used only by this request's lookup."""

    member_key = None

    def authenticate(self, request):
        kwargs = (request.parser_context or {}).get("kwargs") or {}
        self.member_key = services.member_key(str(kwargs.get("code", "")))
        return super().authenticate(request)

    def joined(self):
        return services.member_join(self.member_key) if self.member_key else super().joined()

    def take_joined(self, auth_token, values):
        if self.member_key:
            auth_token.till_prefetched = services.member_from_join(self.member_key, values)


class EligibilityView(CheckoutBase):
    authentication_classes = [TillAuthentication if cls is TokenAuthentication else cls
                              for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]

    @extend_schema(
        parameters=[
            CODE,
            OpenApiParameter("via", str, enum=["scan", "search"], description="`search` when the cashier opened a name-search result (logged as such)."),
        ],
        responses={200: EligibilitySerializer},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],  # TillAuthentication is the token scheme
    )
    def get(self, request, code):
        source = TillCheck.Source.SEARCH if request.query_params.get("via") == "search" else TillCheck.Source.SCAN
        result = services.till_check(code=code, user=request.user, now=timezone.now(), source=source,
                                     prefetched=getattr(request.auth, "till_prefetched", None))
        if result is None:
            raise exceptions.NotFound(_("Unknown card or member number."))
        return Response(result)


class SearchView(CheckoutBase):
    @extend_schema(parameters=[TillSearchQuerySerializer], responses=EligibilitySerializer(many=True))
    def get(self, request):
        query = TillSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(services.till_search(text=query.validated_data["search"], now=timezone.now()))


class CardsView(CheckoutBase):
    """The offline card list: gzipped when the till accepts it, an ETag (304 when unchanged), and
    `?since=` for the cards changed since a version the till holds (checkout/cardlist.py)."""

    permission_classes = [IsTillDevice]

    @extend_schema(
        parameters=[OpenApiParameter("since", OpenApiTypes.DATETIME, description=gettext_lazy(
            "The `generated_at` of the list this till holds: only the cards changed since then, and the barcodes removed."))],
        responses={
            200: inline_serializer("CardList", {
                "generated_at": serializers.DateTimeField(),
                "full": serializers.BooleanField(help_text="true: the whole list (replace what you hold); false: changes to merge."),
                "cards": CardSerializer(many=True),
                "removed": serializers.ListField(child=serializers.CharField()),
            }),
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
        },
    )
    def get(self, request):
        since = None
        raw = request.query_params.get("since")
        if raw:
            try:
                since = parse_datetime(raw.strip().replace(" ", "+"))  # a '+' left unencoded arrives as a space
            except ValueError:  # well formed but out of range (month 13)
                since = None
            if since is None:
                raise exceptions.ValidationError({"since": [_("Give the generated_at of a list you hold (an ISO 8601 date and time).")]})
            if timezone.is_naive(since):
                since = timezone.make_aware(since)
        wanted = {tag.strip().removeprefix("W/") for tag in request.headers.get("If-None-Match", "").split(",") if tag.strip()}
        print_ = cardlist.fingerprint() if wanted else None
        known = cardlist.known_etag(print_)
        if known is not None and (f'"{known}"' in wanted or "*" in wanted):
            listing, tag = None, f'"{known}"'  # unchanged rows: no need to build the list
        else:
            listing = cardlist.card_list(now=timezone.now(), since=since, print_=print_)
            tag = f'"{listing.etag}"'
        if tag in wanted or "*" in wanted:
            response = HttpResponseNotModified()
        else:
            body = listing.body()
            response = HttpResponse(content_type="application/json")
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                body = gzip.compress(body, compresslevel=6, mtime=0)
                response["Content-Encoding"] = "gzip"
            response.content = body
            response["Content-Length"] = str(len(body))
        response["ETag"] = tag
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Accept-Encoding, Authorization, Cookie"
        return response


class OfflineCheckSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=64, help_text=gettext_lazy("The check's id on the device (a resend is ignored)."))
    code = serializers.CharField(max_length=64)
    checked_at = serializers.DateTimeField()
    can_shop = serializers.BooleanField(allow_null=True, required=False)
    status = serializers.CharField(max_length=16, required=False, allow_blank=True)
    reasons = serializers.ListField(child=serializers.CharField(max_length=32), required=False, max_length=10)
    source = serializers.ChoiceField(choices=TillCheck.Source.choices, required=False)


class OfflineLogSerializer(serializers.Serializer):
    checks = OfflineCheckSerializer(many=True, allow_empty=False, max_length=500)


class OfflineLogView(CheckoutBase):
    """The answers a till gave offline, sent when it is back online (DOMAIN.md §6)."""

    @extend_schema(request=OfflineLogSerializer, responses={201: inline_serializer("OfflineLogged", {
        "received": serializers.IntegerField(), "logged": serializers.IntegerField()})})
    def post(self, request):
        data = OfflineLogSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        counts = services.till_log_offline(entries=data.validated_data["checks"], user=request.user, now=timezone.now())
        return Response(counts, status=status.HTTP_201_CREATED)


class PingView(APIView):
    """A trivial authenticated endpoint: the baseline of the till benchmark (bench/till.py)."""

    @extend_schema(responses=inline_serializer("Ping", {"ok": serializers.BooleanField()}))
    def get(self, request):
        return Response({"ok": True})


class OverrideSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class OverrideView(CheckoutBase):
    @extend_schema(parameters=[CODE], request=OverrideSerializer,
                   responses={201: inline_serializer("Override", {"id": serializers.IntegerField(), "checked_at": serializers.DateTimeField()})})
    def post(self, request, code):
        data = OverrideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            entry = services.till_override(code=code, reason=data.validated_data["reason"], user=request.user, now=timezone.now())
        except LookupError:
            raise exceptions.NotFound(_("Unknown card or member number.")) from None
        return Response({"id": entry.pk, "checked_at": entry.checked_at.isoformat()}, status=status.HTTP_201_CREATED)
