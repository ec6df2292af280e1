"""API representations of members and shares (CONTRACT.md §5)."""
from decimal import Decimal

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coopmarket.roles import is_coordinator

from . import selectors
from .models import Associate, Member, Payment, ShareClass, ShareSubscription


class ShareClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShareClass
        fields = ["id", "code", "name", "unit_price", "min_quantity", "low_income_min_quantity", "grants_shopping", "grants_work"]


class AssociateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Associate
        fields = ["id", "associate_number", "card_barcode", "first_name", "last_name", "created_at", "removed_on"]
        read_only_fields = fields


class SharesSerializer(serializers.Serializer):
    quantity = serializers.IntegerField()
    amount_paid = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2)


class HoldingSerializer(serializers.Serializer):
    share_class = serializers.CharField()
    name = serializers.CharField()
    grants_shopping = serializers.BooleanField()
    quantity = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount_paid = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2)


class CountersSerializer(serializers.Serializer):
    standard = serializers.IntegerField()
    ftop = serializers.IntegerField()


class MemberSerializer(serializers.ModelSerializer):
    """The member object. Shift-engine fields come from the stored copies on the member; the
    shifts app extends this serializer for the fields it owns (regular slot, leave, exemption)."""

    display_number = serializers.CharField(read_only=True)
    can_shop = serializers.BooleanField(read_only=True)
    makeups_owed = serializers.IntegerField(read_only=True)
    shares = serializers.SerializerMethodField()
    holdings = serializers.SerializerMethodField()
    counters = serializers.SerializerMethodField()
    associates = AssociateSerializer(many=True, read_only=True)
    regular_slot = serializers.SerializerMethodField()
    leave = serializers.SerializerMethodField()
    exemption = serializers.SerializerMethodField()
    calendar_url = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "id", "member_number", "display_number", "card_barcode", "first_name", "last_name", "email",
            "phone", "address", "postal_code", "city", "birth_date", "shift_type", "low_income", "joined_on",
            "membership", "status", "can_shop", "shares", "holdings", "counters", "makeups_owed",
            "alert_deadline", "delay_until", "work_start_date", "regular_slot", "leave", "exemption",
            "blocked_reason", "associates", "left_on", "calendar_url",
        ]
        read_only_fields = fields

    def _holdings(self, member):
        cache = getattr(member, "_holdings_cache", None)
        if cache is None:
            cache = member._holdings_cache = selectors.holdings(member)
        return cache

    @extend_schema_field(SharesSerializer)
    def get_shares(self, member):
        shopping = [h for h in self._holdings(member) if h["grants_shopping"]]
        return {
            "quantity": sum(h["quantity"] for h in shopping),
            "amount_paid": str(sum((h["amount_paid"] for h in shopping), Decimal("0.00"))),
            "amount_due": str(sum((h["amount_due"] for h in shopping), Decimal("0.00"))),
        }

    @extend_schema_field(HoldingSerializer(many=True))
    def get_holdings(self, member):
        return HoldingSerializer(self._holdings(member), many=True).data

    @extend_schema_field(CountersSerializer)
    def get_counters(self, member):
        return {"standard": member.counter_standard, "ftop": member.counter_ftop}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_regular_slot(self, member):
        return None

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_leave(self, member):
        return None

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_exemption(self, member):
        return None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_calendar_url(self, member):
        """The secret iCal feed URL, shown only to the member and coordinators (null for others).

        The route (`calendar_feed`) belongs to the shifts app: it is reversed by name, never imported."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if request is None or not member.calendar_token or user is None:
            return None
        if not (is_coordinator(user) or (member.user_id is not None and member.user_id == user.pk)):
            return None
        try:
            return request.build_absolute_uri(reverse("calendar_feed", kwargs={"token": member.calendar_token}))
        except NoReverseMatch:
            return None


class MemberCreateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=16, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    shift_type = serializers.ChoiceField(choices=Member.ShiftType.choices, default=Member.ShiftType.STANDARD)
    low_income = serializers.BooleanField(default=False)
    joined_on = serializers.DateField(
        required=False, help_text=_("Default today; not in the future. The shift type given holds from this date."),
    )


class MemberUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, required=False)
    last_name = serializers.CharField(max_length=100, required=False)
    email = serializers.EmailField(max_length=254, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=16, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    shift_type = serializers.ChoiceField(
        choices=Member.ShiftType.choices, required=False,
        help_text=_("A switch is refused while make-ups are owed; a switch to standard names its regular slot in `template`."),
    )
    template = serializers.IntegerField(
        required=False, min_value=1, help_text=_("With shift_type=standard: the regular slot's template id."),
    )
    low_income = serializers.BooleanField(required=False)
    work_start_date = serializers.DateField(required=False, allow_null=True)


class SubscribeSerializer(serializers.Serializer):
    share_class = serializers.SlugRelatedField(
        slug_field="code", queryset=ShareClass.objects.all(),
        help_text=_("Share class code (e.g. A) or id."),
    )
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    payment_method = serializers.ChoiceField(
        choices=[c for c in Payment.Method.choices if c[0] != Payment.Method.STRIPE]
    )
    paid_on = serializers.DateField(required=False)
    instalments = serializers.IntegerField(min_value=1, max_value=36, default=1)
    reference = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        # Accept the share class by id as well as by code.
        if hasattr(data, "get"):
            raw = data.get("share_class")
            if isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit()):
                found = ShareClass.objects.filter(pk=int(raw)).first()
                if found is not None:
                    data = {**data, "share_class": found.code}
        return super().to_internal_value(data)


class PaymentCreateSerializer(serializers.Serializer):
    subscription = serializers.PrimaryKeyRelatedField(queryset=ShareSubscription.objects.all())
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    payment_method = serializers.ChoiceField(
        choices=[c for c in Payment.Method.choices if c[0] != Payment.Method.STRIPE]
    )
    paid_on = serializers.DateField(required=False)
    reference = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class PaymentSerializer(serializers.ModelSerializer):
    payment_method = serializers.CharField(source="method")

    class Meta:
        model = Payment
        fields = ["id", "subscription", "kind", "amount", "payment_method", "paid_on", "reference", "recorded_at"]
        read_only_fields = fields


class SubscriptionSerializer(serializers.ModelSerializer):
    share_class = serializers.CharField(source="share_class.code")
    payments = PaymentSerializer(many=True, read_only=True)
    amount_paid = serializers.SerializerMethodField()
    schedule = serializers.SerializerMethodField()

    class Meta:
        model = ShareSubscription
        fields = [
            "id", "member", "share_class", "quantity", "unit_price", "amount", "instalments", "subscribed_on",
            "amount_paid", "schedule", "payments", "redemption_requested_on", "redemption_due_on", "redeemed_on",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_amount_paid(self, sub):
        return str(sum((p.signed_amount for p in sub.payments.all()), Decimal("0.00")))

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_schedule(self, sub):
        return [{"due_on": due.isoformat(), "amount": str(amount)} for due, amount in sub.schedule]


class AssociateCreateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


ID_MAX = 2_147_483_647


class MemberListQuerySerializer(serializers.Serializer):
    """The members list's filters (GET /api/v1/members/)."""

    search = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                   help_text=_("Name, member number, card barcode or e-mail."))
    status = serializers.ChoiceField(choices=Member.Status.choices, required=False, help_text=_("Working status."))
    membership = serializers.ChoiceField(choices=Member.Membership.choices, required=False)
    shift_type = serializers.ChoiceField(choices=Member.ShiftType.choices, required=False)
    share_class = serializers.CharField(max_length=8, required=False, allow_blank=True, help_text=_("Share class code."))
    low_income = serializers.BooleanField(required=False, allow_null=True, default=None)
