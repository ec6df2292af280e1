from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .forms import EmailCheckedByServiceMixin
from .models import (
    Associate,
    CoopParameters,
    Member,
    MemberEvent,
    MemberStateChange,
    Payment,
    Sequence,
    ShareClass,
    ShareSubscription,
    StripeCheckout,
    StripeEvent,
)


@admin.register(CoopParameters)
class CoopParametersAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return not CoopParameters.objects.exists()

    def save_model(self, request, obj, form, change):
        """"Welcome before booking" goes through its service: switching it on counts the members
        who exist then as welcomed on their joining date (DOMAIN.md §9)."""
        from django.utils import timezone

        from .qualifications import welcome_before_booking_set

        switch = "welcome_before_booking" in form.changed_data
        wanted = obj.welcome_before_booking
        if switch:
            obj.welcome_before_booking = not wanted  # the service flips it, with its effects
        super().save_model(request, obj, form, change)
        if switch:
            welcomed = welcome_before_booking_set(on=wanted, today=timezone.localdate(), by=request.user)
            obj.refresh_from_db()
            if welcomed:
                from django.contrib import messages

                messages.info(request, _("%(n)d member(s) counted as welcomed on their joining date.") % {"n": welcomed})

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ShareClass)
class ShareClassAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "unit_price", "min_quantity", "low_income_min_quantity", "grants_shopping", "grants_work"]

    def has_delete_permission(self, request, obj=None):
        return False


class AssociateInline(admin.TabularInline):
    model = Associate
    extra = 0
    fields = ["associate_number", "card_barcode", "first_name", "last_name", "removed_on"]
    readonly_fields = ["associate_number", "card_barcode"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # through the member page, so numbers and barcodes stay gap-free


class SubscriptionInline(admin.TabularInline):
    model = ShareSubscription
    extra = 0
    fields = ["share_class", "quantity", "amount", "instalments", "subscribed_on", "redemption_requested_on", "redeemed_on"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


# The fields the coop's rules decide (DOMAIN.md §8): shown, never edited here. They change through
# the services: the member page, the shift office, or the actions the shift app adds to this admin.
RULE_BEARING_FIELDS = [
    "user", "joined_on", "shift_type", "low_income", "work_start_date", "work_start_date_manual", "membership",
    "status", "refusals", "counter_standard", "counter_ftop", "alert_deadline", "delay_until", "debt_since", "blocked_reason",
    "left_on", "left_reason", "anonymised_on", "welcomed_on",
]
CONTACT_ADMIN_FIELDS = ["first_name", "last_name", "email", "phone", "address", "postal_code", "city", "birth_date", "notes"]


class MemberAdminForm(EmailCheckedByServiceMixin, forms.ModelForm):
    class Meta:
        model = Member
        fields = CONTACT_ADMIN_FIELDS


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    """Members: contact data through `member_update`; every rule-bearing field is read-only."""

    form = MemberAdminForm
    list_display = ["member_number", "last_name", "first_name", "email", "membership", "status", "shift_type", "low_income"]
    list_filter = ["membership", "status", "shift_type", "low_income"]
    search_fields = ["member_number", "card_barcode", "last_name", "first_name", "email"]
    readonly_fields = ["member_number", "card_barcode", *RULE_BEARING_FIELDS, "created_at", "updated_at"]
    inlines = [AssociateInline, SubscriptionInline]
    fieldsets = [
        (None, {"fields": ["member_number", "card_barcode", "user", "first_name", "last_name", "email", "phone"]}),
        (_("Address"), {"fields": ["address", "postal_code", "city", "birth_date"]}),
        (_("Membership"), {"fields": ["joined_on", "membership", "shift_type", "low_income", "work_start_date", "work_start_date_manual", "welcomed_on", "left_on", "left_reason", "anonymised_on", "notes"]}),
        (_("Working status (computed)"), {"fields": ["status", "refusals", "counter_standard", "counter_ftop", "alert_deadline", "delay_until", "debt_since", "blocked_reason"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    def has_add_permission(self, request):
        return False  # registration goes through the members office page (gap-free numbers)

    def has_delete_permission(self, request, obj=None):
        return False  # members are never deleted: they leave, then may be anonymised

    def save_model(self, request, obj, form, change):
        """Contact data goes through the service (e-mail checks, the member's login rules)."""
        from django.utils import timezone

        from . import services

        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in CONTACT_ADMIN_FIELDS}
        if changed:
            services.member_update(member=obj, by=request.user, today=timezone.localdate(), **changed)


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    fields = ["paid_on", "kind", "amount", "method", "reference", "recorded_by", "recorded_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ShareSubscription)
class ShareSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["member", "share_class", "quantity", "amount", "instalments", "subscribed_on", "redemption_due_on", "redeemed_on"]
    list_filter = ["share_class", "instalments"]
    search_fields = ["member__last_name", "member__member_number"]
    readonly_fields = [f.name for f in ShareSubscription._meta.fields]
    inlines = [PaymentInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledgers and logs: visible, never edited or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["paid_on", "subscription", "kind", "amount", "method", "reference", "recorded_by"]
    list_filter = ["kind", "method"]
    search_fields = ["reference", "subscription__member__last_name"]


@admin.register(Associate)
class AssociateAdmin(ReadOnlyAdmin):
    list_display = ["associate_number", "card_barcode", "first_name", "last_name", "member", "removed_on"]
    search_fields = ["card_barcode", "last_name"]


@admin.register(MemberEvent)
class MemberEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "member", "kind", "detail", "author"]
    list_filter = ["kind"]


@admin.register(Sequence)
class SequenceAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_value"]


@admin.register(StripeCheckout)
class StripeCheckoutAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "session_id", "member", "share_class", "quantity", "amount_cents", "status"]
    list_filter = ["status"]
    search_fields = ["session_id", "member__last_name", "member__member_number"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "event_id", "type", "session_id", "outcome"]
    list_filter = ["type", "outcome"]
    search_fields = ["event_id", "session_id"]


@admin.register(MemberStateChange)
class MemberStateChangeAdmin(ReadOnlyAdmin):
    list_display = ["effective_date", "member", "field", "value", "written_at"]
    list_filter = ["field", "value"]
    search_fields = ["member__last_name", "member__member_number"]
    list_select_related = ["member"]
