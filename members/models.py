"""Members, households, share classes, subscriptions and the payment ledger (DOMAIN.md §1)."""
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coopmarket.roles import is_privileged_login

from . import membership as ms
from .barcodes import format_member_number


class CoopParameters(models.Model):
    """Every number of DOMAIN.md in one place: a singleton row that an admin edits."""

    # §1 members and shares
    max_associates = models.PositiveSmallIntegerField(_("household associates per member"), default=1)
    max_instalments = models.PositiveSmallIntegerField(
        _("maximum instalments"), default=10, validators=[MinValueValidator(1), MaxValueValidator(36)]
    )
    instalment_overdue_days = models.PositiveSmallIntegerField(
        _("days an instalment may be late before the member is unpaid"), default=30
    )
    redemption_delay_days = models.PositiveSmallIntegerField(_("share redemption delay (days)"), default=365)
    # §2-§5 shifts (used by the shift engine)
    shift_capacity = models.PositiveSmallIntegerField(_("default shift capacity"), default=6)
    generation_days_ahead = models.PositiveSmallIntegerField(_("days of shifts generated ahead"), default=90)
    ftop_max_per_day = models.PositiveSmallIntegerField(_("FTOP bookings per day"), default=2)
    ftop_max_per_cycle = models.PositiveSmallIntegerField(_("FTOP bookings per cycle"), default=5)
    cancel_notice_hours = models.PositiveSmallIntegerField(_("cancellation notice (hours)"), default=24)
    alert_days = models.PositiveSmallIntegerField(_("alert period (days)"), default=28)
    extension_days = models.PositiveSmallIntegerField(_("extension length (days)"), default=28)
    max_extensions_per_year = models.PositiveSmallIntegerField(_("extensions per 365 days"), default=2)
    min_leave_days = models.PositiveSmallIntegerField(_("minimum leave (days)"), default=28)
    no_slot_grace_days = models.PositiveSmallIntegerField(_("grace for a new member without a slot (days)"), default=28)
    ftop_unsubscribe_below = models.SmallIntegerField(_("FTOP counter that unsubscribes"), default=-8)
    charge_window_days = models.PositiveSmallIntegerField(
        _("days before a cycle start an FTOP member must have been active to owe its charge"), default=28,
        validators=[MinValueValidator(1)],
    )
    extension_window_days = models.PositiveSmallIntegerField(
        _("window in which extensions are counted (days)"), default=365, validators=[MinValueValidator(1)]
    )
    # §3 point values (the counter table), as positive numbers; the rule gives the direction.
    points_missed_regular = models.PositiveSmallIntegerField(_("points lost for a missed regular shift"), default=2)
    points_excused_regular = models.PositiveSmallIntegerField(_("points lost for an excused regular shift"), default=1)
    points_missed_one_off = models.PositiveSmallIntegerField(_("points lost by a standard member for a missed one-off booking"), default=1)
    points_attended_other = models.PositiveSmallIntegerField(_("points for a make-up or extra shift"), default=1)
    points_ftop_attended = models.PositiveSmallIntegerField(_("FTOP points for an attended shift"), default=1)
    points_ftop_missed = models.PositiveSmallIntegerField(_("FTOP points lost for a missed shift"), default=1)
    points_charge_with_credit = models.PositiveSmallIntegerField(_("cycle charge when the FTOP counter is at least 1"), default=1)
    points_charge = models.PositiveSmallIntegerField(_("cycle charge otherwise"), default=2)
    # §6 the till
    till_window_minutes = models.PositiveSmallIntegerField(_("till access around a shift (minutes)"), default=20)
    till_override_allowed = models.BooleanField(_("cashiers may override a red answer"), default=False)
    # §9 qualifications, shift leaders and welcome sessions
    no_leader_days = models.PositiveSmallIntegerField(
        _("days ahead a shift with an empty qualified seat is flagged (“no leader”)"), default=3,
        validators=[MaxValueValidator(60)],
    )
    coordinators_confirm_unqualified = models.BooleanField(
        _("coordinators may seat a member on a qualified seat without the qualification (with a logged reason)"), default=False,
    )
    welcome_before_booking = models.BooleanField(
        _("welcome session before booking (members not yet welcomed book only welcome sessions)"), default=False,
        help_text=_("Switching it on records every existing member as welcomed on their joining date."),
    )
    # §8 trust: sign-in lockout (django-axes reads these) and API token lifetimes
    login_failures_per_user = models.PositiveSmallIntegerField(
        _("failed sign-ins for one username from one address before a lockout"), default=5, validators=[MinValueValidator(1)]
    )
    login_failures_per_address = models.PositiveSmallIntegerField(
        _("failed sign-ins from one address, any usernames, before a lockout"), default=20, validators=[MinValueValidator(1)]
    )
    login_lockout_minutes = models.PositiveSmallIntegerField(
        _("sign-in failures count and lock out for (minutes)"), default=15, validators=[MinValueValidator(1)]
    )
    token_days = models.PositiveSmallIntegerField(_("API token lifetime (days)"), default=30, validators=[MinValueValidator(1)])
    device_token_days = models.PositiveSmallIntegerField(
        _("API token lifetime of till device accounts (days)"), default=365, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("coop parameters")
        verbose_name_plural = _("coop parameters")

    def __str__(self):
        return str(_("Coop parameters"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "CoopParameters":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class Sequence(models.Model):
    """Gap-free number sequences (member numbers, associate numbers).

    The row is locked with select_for_update and bumped inside the transaction that creates the
    numbered row, so a rolled-back creation gives its number back.
    """

    name = models.CharField(max_length=32, primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.name}={self.last_value}"


class ShareClass(models.Model):
    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=100)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    min_quantity = models.PositiveIntegerField(_("minimum quantity"), default=1)
    low_income_min_quantity = models.PositiveIntegerField(_("minimum quantity (low income)"), default=1)
    grants_shopping = models.BooleanField(_("grants shopping"), default=False)
    grants_work = models.BooleanField(_("carries the work obligation"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("share class")
        verbose_name_plural = _("share classes")
        constraints = [
            models.CheckConstraint(condition=models.Q(unit_price__gt=0), name="shareclass_price_positive"),
            models.CheckConstraint(condition=models.Q(min_quantity__gte=1), name="shareclass_min_positive"),
        ]

    def __str__(self):
        return f"{self.code} - {self.name}"

    def minimum_for(self, low_income: bool) -> int:
        return self.low_income_min_quantity if low_income else self.min_quantity


def owing_q() -> models.Q:
    """Members who owe make-ups: the counter that applies to their shift type is below zero
    (DOMAIN.md §4). Also the condition of the partial index `member_owing`, so that the debt table
    reads the few owing members instead of scanning them all: a query must use this very Q (the
    planner matches the index by its condition)."""
    ftop = models.Q(shift_type="ftop")
    return (ftop & models.Q(counter_ftop__lt=0)) | (~ftop & models.Q(counter_standard__lt=0))


class Member(models.Model):
    class ShiftType(models.TextChoices):
        STANDARD = "standard", _("Standard (regular slot)")
        FTOP = "ftop", _("FTOP (flying)")

    class Membership(models.TextChoices):
        NONE = ms.NONE, _("No shares yet")
        UNPAID = ms.UNPAID, _("Shares unpaid")
        ACTIVE = ms.ACTIVE, _("Active")
        SUPPORTING = ms.SUPPORTING, _("Supporting")
        LEFT = ms.LEFT, _("Left the coop")

    class Status(models.TextChoices):
        """The working status (DOMAIN.md §5), stored for fast reads; written by the shift engine."""

        UP_TO_DATE = "up_to_date", _("Up to date")
        ALERT = "alert", _("Alert")
        DELAY = "delay", _("Delay")
        SUSPENDED = "suspended", _("Suspended")
        ON_LEAVE = "on_leave", _("On leave")
        EXEMPTED = "exempted", _("Exempted")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BLOCKED = "blocked", _("Blocked")
        NOT_CONCERNED = "not_concerned", _("Not concerned")

    SHOPPING_STATUSES = frozenset({"up_to_date", "alert", "delay", "exempted", "not_concerned"})

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="member"
    )
    member_number = models.PositiveIntegerField(_("member number"), unique=True, editable=False)
    card_barcode = models.CharField(_("card barcode"), max_length=13, unique=True, editable=False)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    search_name = models.CharField(max_length=210, db_index=True, editable=False, default="")
    email = models.EmailField(_("e-mail"), max_length=254)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    shift_type = models.CharField(_("shift type"), max_length=8, choices=ShiftType.choices, default=ShiftType.STANDARD)
    shift_type_since = models.DateField(_("shift type since"), null=True, blank=True)
    low_income = models.BooleanField(_("low income"), default=False)
    joined_on = models.DateField(_("joined on"))
    notes = models.TextField(_("notes"), blank=True)
    work_start_date = models.DateField(_("work start date"), null=True, blank=True)
    work_start_date_manual = models.BooleanField(_("work start date set by coordinators"), default=False)
    membership = models.CharField(_("membership"), max_length=12, choices=Membership.choices, default=Membership.NONE, db_index=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    left_reason = models.TextField(_("reason for leaving"), blank=True)
    anonymised_on = models.DateField(_("anonymised on"), null=True, blank=True)
    # Stored copies of the shift engine's results (written by `shifts`, read by pages and the till).
    status = models.CharField(_("working status"), max_length=16, choices=Status.choices, default=Status.NOT_CONCERNED, db_index=True)
    counter_standard = models.IntegerField(_("standard counter"), default=0)
    counter_ftop = models.IntegerField(_("FTOP counter"), default=0)
    alert_deadline = models.DateField(_("alert deadline"), null=True, blank=True)
    delay_until = models.DateField(_("delay until"), null=True, blank=True)
    # The day the counter that applies went below zero (the alert episode's start; None when not
    # negative): with the counters, all the daily job needs to take an FTOP member over a cycle charge.
    debt_since = models.DateField(_("in debt since"), null=True, blank=True)
    blocked_reason = models.TextField(_("blocked because"), blank=True)
    # Every refusing condition of the status table that holds (DOMAIN.md §6), comma-separated in
    # table order (e.g. "blocked,suspended"): the till lists them all, not only the first match.
    refusals = models.CharField(_("refusing conditions"), max_length=64, blank=True, default="")
    # The day the member attended a welcome session (DOMAIN.md §9), or was counted as welcomed.
    welcomed_on = models.DateField(_("welcomed on"), null=True, blank=True)
    calendar_token = models.CharField(max_length=43, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["member_number"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="member_email_unique_ci"),
            models.CheckConstraint(condition=models.Q(member_number__gte=1), name="member_number_positive"),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            # The debt table's count and page (shifts.selectors.members_owing): a tenth of the members.
            models.Index(fields=["membership"], condition=owing_q(), name="member_owing"),
        ]

    def __str__(self):
        return f"{self.display_number} {self.first_name} {self.last_name}"

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._loaded_user_id = instance.__dict__.get("user_id")
        return instance

    def clean(self):
        """A form (the admin's, an office page's) never links a staff, superuser or role-group
        login to a member (DOMAIN.md §8). A login linked before stays linked."""
        super().clean()
        if self.user_id and self.user_id != getattr(self, "_loaded_user_id", None) and is_privileged_login(self.user):
            raise ValidationError({"user": _("A staff, superuser or role account cannot be linked to a member from the office.")})

    def save(self, *args, **kwargs):
        if not self.calendar_token:
            self.calendar_token = secrets.token_urlsafe(32)
        from .text import search_key

        self.search_name = search_key(f"{self.first_name} {self.last_name}")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("members:detail", args=[self.pk])

    @property
    def display_number(self) -> str:
        return format_member_number(self.member_number)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def counter_that_applies(self) -> int:
        return self.counter_ftop if self.shift_type == self.ShiftType.FTOP else self.counter_standard

    @property
    def makeups_owed(self) -> int:
        return self.owed(self.shift_type, self.counter_standard, self.counter_ftop)

    @classmethod
    def owed(cls, shift_type: str, counter_standard: int, counter_ftop: int) -> int:
        """Make-ups owed from the counter that applies to the shift type (also for columns read in bulk)."""
        return max(0, -(counter_ftop if shift_type == cls.ShiftType.FTOP else counter_standard))

    @property
    def can_shop(self) -> bool:
        """DOMAIN.md §6: membership active AND status allows shopping (or not concerned) AND not blocked."""
        return (
            self.membership == self.Membership.ACTIVE
            and self.status in self.SHOPPING_STATUSES
            and not self.blocked_reason
        )


class Qualification(models.Model):
    """A skill a seat may need (DOMAIN.md §9): the list the coordinators keep.

    The code is what templates, imports and the API name (`leader:1;cashier:2`): it never changes
    once created. The name and description of the three default qualifications are translated
    when shown."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return gettext(self.name) if self.name else self.code

    @property
    def display_description(self) -> str:
        return gettext(self.description) if self.description else ""


class MemberQualification(models.Model):
    """A member holds a qualification from `since`, until `until` (its expiry, included) if given,
    and not from `revoked_on` on once revoked. Granting and revoking are logged here (who, when,
    why) and in the member's history; a refresher training is a new row."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="qualification_grants")
    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="grants")
    since = models.DateField(_("held from"))
    until = models.DateField(_("expires on"), null=True, blank=True, help_text=_("Last day held; empty: no expiry."))
    note = models.CharField(_("note"), max_length=255, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    revoked_on = models.DateField(_("revoked from"), null=True, blank=True)
    revoke_reason = models.CharField(_("reason for revoking"), max_length=255, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["member", "qualification", "since", "id"]
        verbose_name = _("member qualification")
        verbose_name_plural = _("member qualifications")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")), name="qualification_until_after_since",
            ),
        ]
        indexes = [models.Index(fields=["member", "qualification", "since"]), models.Index(fields=["qualification", "since"])]

    def __str__(self):
        return f"{self.member_id} {self.qualification_id} {self.since}..{self.until or ''}"

    def held_on(self, day) -> bool:
        return (
            self.since <= day and (self.until is None or day <= self.until)
            and (self.revoked_on is None or day < self.revoked_on)
        )


class Associate(models.Model):
    """A household associate who shops on the member's standing with their own card."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="associates")
    associate_number = models.PositiveIntegerField(_("associate number"), unique=True, editable=False)
    card_barcode = models.CharField(_("card barcode"), max_length=13, unique=True, editable=False)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    search_name = models.CharField(max_length=210, db_index=True, editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)

    class Meta:
        ordering = ["associate_number"]
        verbose_name = _("household associate")
        verbose_name_plural = _("household associates")

    def __str__(self):
        return f"{self.first_name} {self.last_name} ({self.card_barcode})"

    def save(self, *args, **kwargs):
        from .text import search_key

        self.search_name = search_key(f"{self.first_name} {self.last_name}")
        super().save(*args, **kwargs)


class ShareSubscription(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subscriptions")
    share_class = models.ForeignKey(ShareClass, on_delete=models.PROTECT, related_name="subscriptions")
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    instalments = models.PositiveSmallIntegerField(_("instalments"), default=1)
    subscribed_on = models.DateField(_("subscribed on"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    redemption_requested_on = models.DateField(_("marked for redemption on"), null=True, blank=True)
    redemption_due_on = models.DateField(_("redemption due on"), null=True, blank=True)
    redeemed_on = models.DateField(_("redeemed on"), null=True, blank=True)

    class Meta:
        ordering = ["subscribed_on", "id"]
        verbose_name = _("share subscription")
        verbose_name_plural = _("share subscriptions")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="subscription_quantity_positive"),
            models.CheckConstraint(condition=models.Q(instalments__gte=1, instalments__lte=36), name="subscription_instalments_range"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="subscription_amount_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.share_class.code} ({self.member.display_number})"

    @property
    def schedule(self):
        return ms.instalment_schedule(self.amount, self.instalments, self.subscribed_on)


BLANK_VALUES = ("", None)


class ImmutableQuerySet(models.QuerySet):
    """Ledger rows are append-only: bulk updates and deletes are refused too.

    One narrow exception, for the anonymisation of a member who left (DOMAIN.md §8):
    `anonymise(field="")` blanks free-text fields that the model lists in `anonymisable_fields`.
    Any other field, or a value other than "" or None, is refused: amounts, points, dates and
    kinds are never touched.
    """

    def update(self, **kwargs):
        raise ValidationError("Ledger rows are immutable.")

    def delete(self):
        raise ValidationError("Ledger rows are immutable and cannot be deleted.")

    def anonymise(self, **blanks) -> int:
        allowed = getattr(self.model, "anonymisable_fields", ())
        if not blanks:
            raise ValidationError("Name the free-text fields to blank.")
        for name, value in blanks.items():
            if name not in allowed:
                raise ValidationError(f"{self.model.__name__}.{name} cannot be anonymised: only {', '.join(allowed) or 'nothing'}.")
            if value not in BLANK_VALUES:
                raise ValidationError(f"Anonymisation only blanks fields; {name} cannot be set to {value!r}.")
        return super().update(**blanks)


class AppendOnlyModel(models.Model):
    """A ledger or history row: written once, never edited or deleted, one by one or in bulk.
    Corrections are new rows."""

    immutable_message = "These rows are append-only: write a new row instead."
    # Free-text fields that the anonymisation of a member may blank (ImmutableQuerySet.anonymise).
    anonymisable_fields: tuple[str, ...] = ()

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(self.immutable_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(self.immutable_message)


class MemberStateChange(AppendOnlyModel):
    """Dated history of what the rules judge over time: membership and shift type (DOMAIN.md §3).

    The value of a field on a date is the value of its latest row dated on or before that date.
    Rows are appended by the services (and never edited), dated the day the change took effect.
    """

    immutable_message = "History rows are append-only."

    class Field(models.TextChoices):
        MEMBERSHIP = "membership", _("membership")
        SHIFT_TYPE = "shift_type", _("shift type")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="state_changes")
    field = models.CharField(_("field"), max_length=16, choices=Field.choices)
    value = models.CharField(_("value"), max_length=16)
    effective_date = models.DateField(_("effective on"))
    written_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        ordering = ["member", "field", "effective_date", "id"]
        verbose_name = _("membership or shift type change")
        verbose_name_plural = _("membership and shift type history")
        indexes = [models.Index(fields=["member", "field", "effective_date"])]

    def __str__(self):
        return f"{self.effective_date} {self.field}={self.value}"


class Payment(AppendOnlyModel):
    """One row of the immutable capital ledger. Refunds and redemptions are rows of their own."""

    immutable_message = "Payments are immutable: record a refund instead."
    anonymisable_fields = ("reference",)

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        TRANSFER = "transfer", _("Bank transfer")
        CARD = "card", _("Card terminal")
        STRIPE = "stripe", _("Online (Stripe)")

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")
        REDEMPTION = "redemption", _("Share redemption")

    subscription = models.ForeignKey(ShareSubscription, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PAYMENT)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    paid_on = models.DateField(_("date"))
    reference = models.CharField(_("reference"), max_length=255, blank=True)
    stripe_reference = models.CharField(max_length=255, null=True, blank=True, unique=True, editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} EUR {self.paid_on}"

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.kind == self.Kind.PAYMENT else -self.amount



class MemberEvent(models.Model):
    """Office actions on a member (registration, leaving, anonymisation...), for the timeline."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=32)
    detail = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} {self.created_at:%Y-%m-%d}"


class StripeCheckout(models.Model):
    """A Stripe Checkout Session the coop created for a share subscription (issue 7).

    The intended subscription (class, quantity, price at the time) is kept here until Stripe says
    the session is paid; the webhook then creates the subscription and its one ledger payment.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for payment")
        PROCESSING = "processing", _("Payment processing")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payment failed")
        EXPIRED = "expired", _("Expired")
        REJECTED = "rejected", _("Paid but not recorded")
        REFUNDED = "refunded", _("Refunded")

    session_id = models.CharField(max_length=255, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="stripe_checkouts")
    share_class = models.ForeignKey(ShareClass, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))
    currency = models.CharField(max_length=3, default="eur")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    payment_intent = models.CharField(max_length=255, blank=True)
    subscription = models.OneToOneField(
        ShareSubscription, null=True, blank=True, on_delete=models.PROTECT, related_name="stripe_checkout"
    )
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="stripe_checkout")
    refund = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="stripe_refund_of")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="stripecheckout_quantity_positive"),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="stripecheckout_amount_positive"),
        ]

    def __str__(self):
        return f"{self.session_id} ({self.status})"

    @property
    def amount(self) -> Decimal:
        """The session's amount in euros (Stripe works in integer cents)."""
        return (Decimal(self.amount_cents) / 100).quantize(Decimal("0.01"))


class StripeEvent(models.Model):
    """Every Stripe webhook event the coop acted on, by its id: a replayed event changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    session_id = models.CharField(max_length=255, blank=True, db_index=True)
    outcome = models.CharField(max_length=32)
    payload = models.JSONField()
    stripe_created = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self):
        return f"{self.event_id} {self.type} ({self.outcome})"
