"""Membership services: every write on members, shares and payments goes through here.

Each service runs in one transaction, validates everything before it writes, and raises
`ValidationError` (bad input: a 400 / form error) or `RuleViolation` (a coop rule: a 409).
"""
from __future__ import annotations

import datetime
import secrets
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from coopmarket.errors import RuleViolation
from coopmarket.roles import is_privileged_login
from coopmarket.tokens import login_forget

from . import membership as ms
from .barcodes import (
    ASSOCIATE_PREFIX,
    MEMBER_PREFIX,
    associate_barcode,
    format_member_number,
    is_valid_ean13,
    member_barcode,
)
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
from .privacy import anonymise_everywhere
from .signals import member_left, membership_changed

CONTACT_FIELDS = ("phone", "address", "postal_code", "city", "birth_date", "notes")
EDITABLE_FIELDS = ("first_name", "last_name", "email", *CONTACT_FIELDS, "low_income", "work_start_date")


def _locked_sequence(name: str) -> Sequence:
    """A gap-free sequence's row, locked until the end of the transaction that uses it."""
    Sequence.objects.get_or_create(name=name)
    return Sequence.objects.select_for_update().get(name=name)


def _next_number(name: str) -> int:
    """Next value of a gap-free sequence; call inside the transaction that uses it."""
    seq = _locked_sequence(name)
    seq.last_value += 1
    seq.save(update_fields=["last_value"])
    return seq.last_value


TEXT_LIMITS = {
    name: Member._meta.get_field(name).max_length
    for name in ("first_name", "last_name", "email", "phone", "address", "postal_code", "city")
}


def member_fields_errors(fields: dict) -> tuple[dict, dict[str, list[str]]]:
    """Clean a member's identity and contact fields without the database: names required, a valid
    e-mail, a known shift type, lengths the columns hold. Returns (cleaned fields, errors)."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(fields)
    for name in ("first_name", "last_name"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
            if not cleaned[name]:
                errors[name] = [_("This field is required.")]
    if "email" in cleaned:
        cleaned["email"] = (cleaned["email"] or "").strip()
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if "shift_type" in cleaned and cleaned["shift_type"] not in Member.ShiftType.values:
        errors["shift_type"] = [_("Choose standard or ftop.")]
    for name, limit in TEXT_LIMITS.items():
        if name not in errors and isinstance(cleaned.get(name), str) and len(cleaned[name]) > limit:
            errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
    return cleaned, errors


def _clean_member_fields(fields: dict, *, instance: Member | None = None) -> dict:
    cleaned, errors = member_fields_errors(fields)
    if "email" in cleaned and "email" not in errors:
        others = Member.objects.filter(email__iexact=cleaned["email"])
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            errors["email"] = [_("Another member already uses this e-mail address.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def state_change_record(*, member: Member, field: str, value: str, effective_date: datetime.date) -> MemberStateChange | None:
    """Append a dated membership or shift-type change (DOMAIN.md §3), unless the value is already
    the latest one. A change is never dated before the latest row of its field."""
    last = MemberStateChange.objects.filter(member=member, field=field).order_by("-effective_date", "-id").first()
    if last is not None and last.value == value:
        return None
    if last is not None and effective_date < last.effective_date:
        effective_date = last.effective_date
    return MemberStateChange.objects.create(member=member, field=field, value=value, effective_date=effective_date)


def _log(member: Member, kind: str, detail: str, by) -> None:
    MemberEvent.objects.create(member=member, kind=kind, detail=detail, author=by if by and by.pk else None)


@transaction.atomic
def member_create(
    *,
    first_name: str,
    last_name: str,
    email: str,
    joined_on: datetime.date,
    by=None,
    shift_type: str = Member.ShiftType.STANDARD,
    low_income: bool = False,
    today: datetime.date | None = None,
    **contact,
) -> Member:
    """Register a member with the next gap-free member number and its EAN-13 card barcode. The
    shift type given holds from `joined_on`, which cannot be after `today` (when given)."""
    unknown = set(contact) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in unknown})
    if today is not None and joined_on > today:
        raise ValidationError({"joined_on": [_("The joining date cannot be in the future.")]})
    fields = _clean_member_fields(
        {"first_name": first_name, "last_name": last_name, "email": email, "shift_type": shift_type, **contact}
    )
    number = _next_number("member")
    member = Member.objects.create(
        member_number=number,
        card_barcode=member_barcode(number),
        low_income=bool(low_income),
        joined_on=joined_on,
        shift_type_since=joined_on,
        **fields,
    )
    state_change_record(member=member, field="membership", value=member.membership, effective_date=joined_on)
    state_change_record(member=member, field="shift_type", value=member.shift_type, effective_date=joined_on)
    _log(member, "registered", "", by)
    return member


# --- the member's login e-mail (DOMAIN.md §8: logins are not the office's to take) -------------

LOGIN_EMAIL_SALT = "coopmarket.members.login-email"


def login_email_token(*, user_id: int, member_id: int, old: str, new: str) -> str:
    """A signed, timestamped token for one change of one login's address (valid as long as a
    password-reset link: PASSWORD_RESET_TIMEOUT)."""
    return signing.dumps({"u": user_id, "m": member_id, "old": old, "new": new}, salt=LOGIN_EMAIL_SALT)


def _login_email_after_edit(member: Member, *, old_email: str, new_email: str) -> dict | None:
    """The office changed a member's e-mail (inside member_update's transaction). Their login:

    - a staff, superuser or role-group login is never changed;
    - the same address in another case is the same mailbox: it follows at once;
    - otherwise nothing changes until the member confirms: returns what to send (a signed link
      to the new address, a notice to the old one).
    """
    users = get_user_model().objects
    user = users.select_for_update().get(pk=member.user_id)
    if is_privileged_login(user):
        return None
    if old_email.lower() == new_email.lower():
        user.email = new_email
        user.save(update_fields=["email"])
        return None
    if user.username.lower() == old_email.lower():
        if users.filter(username__iexact=new_email).exclude(pk=user.pk).exists():
            raise ValidationError({"email": [_("A login with this e-mail already exists.")]})
    return {"user": user, "old": user.email, "new": new_email}


def _login_email_messages(member: Member, *, user, old: str, new: str, site_url: str) -> None:
    token = login_email_token(user_id=user.pk, member_id=member.pk, old=old, new=new)
    context = {
        "member": member, "old": old, "new": new, "coop_name": settings.COOP_NAME,
        "link": site_url.rstrip("/") + reverse("me:email_confirm", args=[token]),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    with translation.override(settings.LANGUAGE_CODE):
        for template, to in (("email_change_confirm", new), ("email_change_notice", old)):
            if not to:
                continue
            subject = " ".join(render_to_string(f"registration/{template}_subject.txt", context).split())
            body = render_to_string(f"registration/{template}_body.txt", context)
            EmailMessage(subject=subject, body=body, to=[to]).send()


def login_email_change_read(*, user, token: str) -> dict:
    """The change a confirmation link asks for, checked: signed, not expired, for this login, and
    still what the office recorded. Raises PermissionDenied (another login) or ValidationError."""
    invalid = ValidationError({"token": [_("This link is invalid, expired or already used.")]})
    try:
        data = signing.loads(token, salt=LOGIN_EMAIL_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    except signing.BadSignature:
        raise invalid from None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        raise PermissionDenied(_("This link is for another login."))
    member = Member.objects.filter(pk=data.get("m"), user_id=user.pk).first()
    if member is None or member.email != data.get("new") or user.email != data.get("old"):
        raise invalid
    if is_privileged_login(user):
        raise ValidationError({"token": [_("This login is a staff or role account: ask an administrator to change its e-mail.")]})
    return {
        "member": member, "old": data["old"], "new": data["new"],
        "username_follows": user.username.lower() == data["old"].lower(),  # the login is the address
    }


@transaction.atomic
def login_email_confirm(*, user, token: str):
    """The member, signed in, confirms the new address: their login's e-mail changes (and its
    username, when it was the old address)."""
    users = get_user_model().objects
    user = users.select_for_update().get(pk=user.pk)
    change = login_email_change_read(user=user, token=token)
    update = ["email"]
    if user.username.lower() == change["old"].lower():
        username = change["new"].lower()
        if users.filter(username__iexact=username).exclude(pk=user.pk).exists():
            raise ValidationError({"token": [_("A login with this e-mail already exists: ask the members office.")]})
        user.username = username
        update.append("username")
    user.email = change["new"]
    user.save(update_fields=update)
    _log(change["member"], "login_email_changed", "", user)
    return user


@transaction.atomic
def member_update(*, member: Member, by=None, today: datetime.date, site_url: str = "", **fields) -> Member:
    """Edit contact data, shift type, low-income flag or the work start date.

    A new e-mail is the member's contact address at once; their login follows only once they
    confirm it (`site_url` prefixes the link mailed to them), and never for a privileged login."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in unknown})
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    fields = _clean_member_fields(fields, instance=member)
    login_change = None
    if "email" in fields and fields["email"] != member.email and member.user_id:
        login_change = _login_email_after_edit(member, old_email=member.email, new_email=fields["email"])
    if "work_start_date" in fields:
        member.work_start_date_manual = fields["work_start_date"] is not None
    for name, value in fields.items():
        setattr(member, name, value)
    member.save()
    changed = ", ".join(sorted(fields))
    _log(member, "edited", changed, by)
    if "low_income" in fields or "work_start_date" in fields:
        membership_refresh(member=member, today=today, effective=today)
    if "work_start_date" in fields:
        membership_changed.send(sender=Member, member=member, today=today)
    if login_change is not None:
        # Sent last. Should the transaction still roll back, the link is stale: confirming checks
        # that the member's e-mail is the new address.
        _login_email_messages(member, site_url=site_url, **login_change)
    return member


def shift_type_set(*, member: Member, shift_type: str, today: datetime.date, by=None) -> Member:
    """Record a shift-type switch, dated today. The shift engine's `shift_type_switch` calls this
    after checking its rules (make-ups owed, the regular slot); call that one, not this."""
    if shift_type not in Member.ShiftType.values:
        raise ValidationError({"shift_type": [_("Choose standard or ftop.")]})
    if shift_type == member.shift_type:
        return member
    member.shift_type = shift_type
    member.shift_type_since = today
    member.save(update_fields=["shift_type", "shift_type_since", "updated_at"])
    state_change_record(member=member, field="shift_type", value=shift_type, effective_date=today)
    _log(member, "edited", "shift_type", by)
    return member


def _subscription_facts(member: Member, subscriptions, *, held_only: bool = True) -> list[ms.SubscriptionFacts]:
    return [
        ms.SubscriptionFacts(
            class_code=sub.share_class.code,
            grants_shopping=sub.share_class.grants_shopping,
            minimum=sub.share_class.minimum_for(member.low_income),
            quantity=sub.quantity,
            amount=sub.amount,
            instalments=sub.instalments,
            subscribed_on=sub.subscribed_on,
            payments=tuple((p.paid_on, p.signed_amount) for p in sub.payments.all()),
        )
        for sub in subscriptions
        if sub.redemption_requested_on is None or not held_only
    ]


def _apply_membership(member: Member, facts, *, today: datetime.date, overdue_days: int) -> bool:
    """Set membership and work start date on the instance; True when something changed."""
    new = ms.membership_status(facts, left=member.left_on is not None, day=today, overdue_days=overdue_days)
    changed = new != member.membership
    member.membership = new
    if new == ms.ACTIVE and member.work_start_date is None and not member.work_start_date_manual:
        member.work_start_date = ms.first_active_date(facts, overdue_days=overdue_days) or today
        changed = True
    return changed


def _record_membership(member: Member, facts, *, today: datetime.date, overdue_days: int, effective: datetime.date | None) -> None:
    """Date the member's (new) membership in the history: from the day it really began."""
    if effective is None:
        last = MemberStateChange.objects.filter(member=member, field="membership").order_by("-effective_date", "-id").first()
        floor = last.effective_date if last is not None else member.joined_on
        effective = (
            ms.membership_since(facts, day=today, overdue_days=overdue_days, floor=floor)
            if member.membership != Member.Membership.LEFT else today
        )
    state_change_record(member=member, field="membership", value=member.membership, effective_date=effective)


def membership_refresh(*, member: Member, today: datetime.date, effective: datetime.date | None = None) -> Member:
    """Recompute and store one member's membership (and work start date) as of `today`.

    The history row is dated from when the new membership really began (a payment dated in the
    past), unless `effective` says otherwise (a flag changed today)."""
    params = CoopParameters.current()
    subs = member.subscriptions.select_related("share_class").prefetch_related("payments")
    facts = _subscription_facts(member, subs)
    if _apply_membership(member, facts, today=today, overdue_days=params.instalment_overdue_days):
        member.save(update_fields=["membership", "work_start_date", "updated_at"])
        _record_membership(member, facts, today=today, overdue_days=params.instalment_overdue_days, effective=effective)
        membership_changed.send(sender=Member, member=member, today=today)
    return member


def _members_with_ledger(queryset):
    return queryset.prefetch_related("subscriptions__share_class", "subscriptions__payments")


def memberships_refresh_all(*, today: datetime.date) -> int:
    """Time-driven part of membership (instalments becoming overdue), for every member, in bulk.

    A first pass reads every member with subscriptions and payments (a constant number of
    queries) and finds those whose membership changes; a second pass locks just those rows,
    re-reads them and writes the changes, so a payment recorded meanwhile is not overwritten.
    Returns how many members changed.
    """
    params = CoopParameters.current()
    overdue_days = params.instalment_overdue_days
    # Only instalment plans change with time alone; everything else changes when a service writes.
    on_instalments = ShareSubscription.objects.filter(instalments__gt=1, redemption_requested_on__isnull=True).values("member_id")
    candidates = [
        member.pk
        for member in _members_with_ledger(
            Member.objects.exclude(membership=Member.Membership.LEFT).filter(pk__in=on_instalments)
        ).iterator(chunk_size=2000)
        if _apply_membership(member, _subscription_facts(member, member.subscriptions.all()), today=today, overdue_days=overdue_days)
    ]
    if not candidates:
        return 0
    now = timezone.now()
    with transaction.atomic():
        locked = list(Member.objects.select_for_update().filter(pk__in=candidates).order_by("pk").values_list("pk", flat=True))
        changed = []
        for member in _members_with_ledger(Member.objects.filter(pk__in=locked)):
            facts = _subscription_facts(member, member.subscriptions.all())
            if _apply_membership(member, facts, today=today, overdue_days=overdue_days):
                member.updated_at = now
                changed.append((member, facts))
        Member.objects.bulk_update([m for m, _f in changed], ["membership", "work_start_date", "updated_at"], batch_size=1000)
        for member, facts in changed:
            _record_membership(member, facts, today=today, overdue_days=overdue_days, effective=None)
            membership_changed.send(sender=Member, member=member, today=today)
    changed = [m for m, _f in changed]
    return len(changed)


def _parse_amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"amount": [_("Enter an amount such as 10.00.")]}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount": [_("The amount must be more than zero.")]})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": [_("Amounts have at most two decimals.")]})
    return amount


def _check_paid_on(paid_on: datetime.date, today: datetime.date) -> None:
    if paid_on > today:
        raise ValidationError({"paid_on": [_("A payment cannot be dated in the future.")]})


@transaction.atomic
def share_subscribe(
    *,
    member: Member,
    share_class: ShareClass,
    quantity: int,
    payment_method: str,
    today: datetime.date,
    paid_on: datetime.date | None = None,
    instalments: int = 1,
    reference: str = "",
    by=None,
) -> ShareSubscription:
    """Subscribe shares and record the first payment (the whole amount, or the first instalment)."""
    params = CoopParameters.current()
    member = Member.objects.select_for_update().get(pk=member.pk)
    paid_on = paid_on or today
    errors: dict[str, list[str]] = {}
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    if not isinstance(quantity, int) or quantity < 1:
        errors["quantity"] = [_("The quantity must be at least 1.")]
    if not isinstance(instalments, int) or not 1 <= instalments <= params.max_instalments:
        errors["instalments"] = [_("Choose between 1 and %(max)d instalments.") % {"max": params.max_instalments}]
    if payment_method not in Payment.Method.values or payment_method == Payment.Method.STRIPE:
        errors["payment_method"] = [_("Choose cash, cheque, transfer or card.")]
    if paid_on > today:
        errors["paid_on"] = [_("A payment cannot be dated in the future.")]
    if not errors:
        first_in_class = not member.subscriptions.filter(
            share_class=share_class, redemption_requested_on__isnull=True
        ).exists()
        minimum = share_class.minimum_for(member.low_income)
        if first_in_class and share_class.grants_shopping and quantity < minimum:
            errors["quantity"] = [
                _("A first subscription to class %(code)s needs at least %(min)d shares.")
                % {"code": share_class.code, "min": minimum}
            ]
    if errors:
        raise ValidationError(errors)
    amount = share_class.unit_price * quantity
    subscription = ShareSubscription.objects.create(
        member=member,
        share_class=share_class,
        quantity=quantity,
        unit_price=share_class.unit_price,
        amount=amount,
        instalments=instalments,
        subscribed_on=paid_on,
        created_by=by if by and by.pk else None,
    )
    first_amount = subscription.schedule[0][1]
    Payment.objects.create(
        subscription=subscription,
        amount=first_amount,
        method=payment_method,
        paid_on=paid_on,
        reference=reference,
        recorded_by=by if by and by.pk else None,
    )
    _log(member, "subscribed", f"{quantity} x {share_class.code}, {instalments} instalment(s)", by)
    membership_refresh(member=member, today=today)
    return subscription


def subscription_balance(subscription: ShareSubscription) -> Decimal:
    """Amount still to pay on a subscription (from the ledger)."""
    paid = sum((p.signed_amount for p in subscription.payments.all()), Decimal("0"))
    return subscription.amount - paid


@transaction.atomic
def payment_record(
    *,
    subscription: ShareSubscription,
    amount,
    method: str,
    today: datetime.date,
    paid_on: datetime.date | None = None,
    reference: str = "",
    by=None,
    stripe_reference: str | None = None,
) -> Payment:
    """Record a payment towards a subscription; refuses overpayment."""
    Member.objects.select_for_update().filter(pk=subscription.member_id).first()
    subscription = ShareSubscription.objects.select_related("member", "share_class").get(pk=subscription.pk)
    amount = _parse_amount(amount)
    paid_on = paid_on or today
    errors: dict[str, list[str]] = {}
    if method not in Payment.Method.values:
        errors["payment_method"] = [_("Choose cash, cheque, transfer or card.")]
    if paid_on > today:
        errors["paid_on"] = [_("A payment cannot be dated in the future.")]
    elif paid_on < subscription.subscribed_on:
        errors["paid_on"] = [_("A payment cannot be dated before its subscription (%(date)s).") % {"date": subscription.subscribed_on.isoformat()}]
    if subscription.redemption_requested_on is not None:
        raise RuleViolation("not_allowed", _("These shares are marked for redemption."))
    balance = subscription_balance(subscription)
    if amount > balance:
        errors["amount"] = [_("This would overpay the subscription: %(balance)s € remain due.") % {"balance": number_format(balance, 2)}]
    if errors:
        raise ValidationError(errors)
    payment = Payment.objects.create(
        subscription=subscription,
        amount=amount,
        method=method,
        paid_on=paid_on,
        reference=reference,
        stripe_reference=stripe_reference,
        recorded_by=by if by and by.pk else None,
    )
    _log(subscription.member, "payment", f"{amount} EUR ({method})", by)
    membership_refresh(member=subscription.member, today=today)
    return payment


@transaction.atomic
def associate_add(*, member: Member, first_name: str, last_name: str, by=None) -> Associate:
    params = CoopParameters.current()
    member = Member.objects.select_for_update().get(pk=member.pk)
    fields = _clean_member_fields({"first_name": first_name, "last_name": last_name})
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    if member.associates.filter(removed_on__isnull=True).count() >= params.max_associates:
        raise RuleViolation(
            "not_allowed",
            _("A member may attach at most %(max)d household associate(s).") % {"max": params.max_associates},
        )
    number = _next_number("associate")
    associate = Associate.objects.create(
        member=member, associate_number=number, card_barcode=associate_barcode(number), **fields
    )
    _log(member, "associate_added", f"{associate.first_name} {associate.last_name}", by)
    return associate


@transaction.atomic
def associate_remove(*, associate: Associate, today: datetime.date, by=None) -> Associate:
    """Detach an associate: the card stops working; the row stays for history."""
    if associate.removed_on is None:
        associate.removed_on = today
        associate.save(update_fields=["removed_on"])
        _log(associate.member, "associate_removed", f"{associate.first_name} {associate.last_name}", by)
    return associate


@transaction.atomic
def member_leave(*, member: Member, reason: str, today: datetime.date, by=None) -> Member:
    """The member leaves: `left` at once, shares marked for redemption, nothing deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the member leaves.")]})
    params = CoopParameters.current()
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has already left the coop."))
    member.left_on = today
    member.left_reason = reason
    member.membership = Member.Membership.LEFT
    member.save(update_fields=["left_on", "left_reason", "membership", "updated_at"])
    member.subscriptions.filter(redemption_requested_on__isnull=True).update(
        redemption_requested_on=today,
        redemption_due_on=today + datetime.timedelta(days=params.redemption_delay_days),
    )
    member.associates.filter(removed_on__isnull=True).update(removed_on=today)
    state_change_record(member=member, field="membership", value=member.membership, effective_date=today)
    _log(member, "left", reason, by)
    member_left.send(sender=Member, member=member, today=today, by=by)
    membership_changed.send(sender=Member, member=member, today=today)
    return member


@transaction.atomic
def redemption_record(
    *, subscription: ShareSubscription, method: str, today: datetime.date, reference: str = "", by=None
) -> ShareSubscription:
    """Refund the amount paid on a subscription marked for redemption, as a ledger row."""
    subscription = ShareSubscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.redemption_requested_on is None:
        raise RuleViolation("not_allowed", _("These shares are not marked for redemption."))
    if subscription.redeemed_on is not None:
        raise RuleViolation("not_allowed", _("These shares are already redeemed."))
    if today < subscription.redemption_due_on:
        raise RuleViolation(
            "not_allowed",
            _("The statutes delay the refund until %(date)s.") % {"date": subscription.redemption_due_on.isoformat()},
        )
    if method not in (Payment.Method.CASH, Payment.Method.CHEQUE, Payment.Method.TRANSFER):
        raise ValidationError({"method": [_("Choose cash, cheque or transfer.")]})
    paid = sum((p.signed_amount for p in subscription.payments.all()), Decimal("0"))
    if paid > 0:
        Payment.objects.create(
            subscription=subscription,
            kind=Payment.Kind.REDEMPTION,
            amount=paid,
            method=method,
            paid_on=today,
            reference=reference,
            recorded_by=by if by and by.pk else None,
        )
    subscription.redeemed_on = today
    subscription.save(update_fields=["redeemed_on"])
    _log(subscription.member, "redeemed", f"{paid} EUR", by)
    return subscription


@transaction.atomic
def member_anonymise(*, member: Member, today: datetime.date, by=None) -> Member:
    """Erase the personal data of a member who left once every share is redeemed; keep the ledger."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.membership != Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("Only a member who left can be anonymised."))
    if member.subscriptions.filter(redeemed_on__isnull=True).exists():
        raise RuleViolation("not_allowed", _("Redeem every share before anonymising."))
    member.first_name = _("Anonymised")
    member.last_name = member.display_number
    member.email = f"anonymised-{member.member_number}@anonymised.invalid"  # a valid address of a reserved domain (RFC 2606)
    for name in ("phone", "address", "postal_code", "city", "notes", "left_reason", "blocked_reason"):
        setattr(member, name, "")
    member.birth_date = None
    member.anonymised_on = today
    member.calendar_token = secrets.token_urlsafe(32)  # the old feed URL stops answering
    user = member.user
    member.user = None
    member.save()
    member.associates.update(first_name=_("Anonymised"), last_name="", search_name="")
    # Stripe's event payloads carry the payer's name and e-mail: keep the event, drop the payload.
    sessions = list(StripeCheckout.objects.filter(member=member).values_list("session_id", flat=True))
    StripeEvent.objects.filter(session_id__in=sessions).update(payload={"anonymised": True})
    StripeCheckout.objects.filter(member=member).update(note="", checkout_url="")
    # The capital ledger keeps amounts, dates and methods; only its free-text reference goes.
    Payment.objects.filter(subscription__member=member).anonymise(reference="")
    member.events.update(detail="")
    member.qualification_grants.update(note="", revoke_reason="")  # free text written about the member
    # Every other app's part: reasons, notification addresses, till override reasons...
    anonymise_everywhere(member, today=today)
    if user is not None:
        login_forget(user=user)  # API tokens, sign-in records under its username and e-mail
        user.is_active = False
        user.email = ""
        user.first_name = user.last_name = ""
        user.username = f"anonymised-{member.member_number}"
        user.set_unusable_password()
        user.save()
    _log(member, "anonymised", "", by)
    return member


def member_invitation_login(*, member: Member, by=None):
    """The login to send an invitation to: a new one, or the member's own login that never got a
    password. Never a staff, superuser or role-group account (the link sets its password)."""
    user = member.user
    if user is not None and is_privileged_login(user):
        raise RuleViolation("not_allowed", _("This member's login is a staff or role account: the office sends it no invitation."))
    if user is None or user.has_usable_password() or member.membership == Member.Membership.LEFT:
        return member_login_create(member=member, by=by)
    return user


@transaction.atomic
def member_login_create(*, member: Member, by=None):
    """Give a member a login (username = e-mail, unusable password until they set one)."""
    if member.user_id:
        raise RuleViolation("not_allowed", _("This member can already sign in."))
    users = get_user_model().objects
    if users.filter(username__iexact=member.email).exists():
        raise RuleViolation("not_allowed", _("A login with this e-mail already exists."))
    user = users.create_user(username=member.email.lower(), email=member.email, first_name=member.first_name, last_name=member.last_name)
    user.set_unusable_password()
    user.save()
    member.user = user
    member.save(update_fields=["user", "updated_at"])
    _log(member, "login_created", user.username, by)
    return user


# --- bringing a coop in (CONTRACT.md §7) --------------------------------------------------------
# The interchange importer writes thousands of members at once: these services take what
# `member_create`, `share_subscribe`, `payment_record` and `associate_add` cannot (numbers and
# cards kept from the previous system, past dates, payments already made), check the same rules,
# and write in bulk (a constant number of queries per call). They send no signal: the importer
# computes the working statuses of everyone it touched at the end, in bulk, as update_statuses does.
# Errors are one ValidationError keyed "<row index>:<field>".

IMPORTED = "imported"


def _row_errors(errors: dict[str, list[str]], index: int, field: str, message: str) -> None:
    errors.setdefault(f"{index}:{field}", []).append(str(message))


def card_barcode_errors(code: str, *, member_number: int | None = None, associate: bool = False) -> str | None:
    """What is wrong with a card barcode brought from another system (None: nothing).

    Any valid EAN-13 may be kept, except codes this project issues to others: `0421` cards belong
    to associates, and a `0420` card is the card of the member whose number it carries."""
    if not is_valid_ean13(code):
        return _("Not a valid EAN-13 barcode (13 digits and a correct check digit).")
    if code.startswith(MEMBER_PREFIX):
        if associate:
            return _("Codes starting 0420 are the cards of members; leave it empty to make one.")
        if member_number is None or code != member_barcode(member_number):
            return _("A code starting 0420 is the card of the member whose number it carries (%(code)s is member %(number)s's).") % {
                "code": code, "number": format_member_number(int(code[4:12]) or 0)}
    if code.startswith(ASSOCIATE_PREFIX) and not associate:
        return _("Codes starting 0421 are the cards of household associates.")
    return None


def _chunks(items, size: int = 5000):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def cards_taken(codes) -> set[str]:
    """Which of these card barcodes a member or an associate already holds (chunked queries)."""
    taken: set[str] = set()
    for chunk in _chunks(codes):
        taken.update(Member.objects.filter(card_barcode__in=chunk).values_list("card_barcode", flat=True))
        taken.update(Associate.objects.filter(card_barcode__in=chunk).values_list("card_barcode", flat=True))
    return taken


def sequence_raise(name: str, value: int) -> int:
    """Make a gap-free sequence end at least at `value` (numbers brought by an import): the next
    number issued is one more than the highest ever issued or imported. Call inside the
    transaction that writes the numbers."""
    seq = _locked_sequence(name)
    if value > seq.last_value:
        seq.last_value = value
        seq.save(update_fields=["last_value"])
    return seq.last_value


def _prepared(member: Member) -> Member:
    """What Member.save() sets, for bulk_create."""
    from .text import search_key

    member.calendar_token = member.calendar_token or secrets.token_urlsafe(32)
    member.search_name = search_key(f"{member.first_name} {member.last_name}")
    return member


IMPORT_MEMBER_FIELDS = (
    "first_name", "last_name", "email", "phone", "address", "postal_code", "city", "notes", "birth_date",
    "joined_on", "shift_type", "low_income", "work_start_date", "left_on", "blocked_reason",
)


@transaction.atomic
def members_import(*, rows: list[dict], today: datetime.date, by=None) -> list[Member]:
    """Register members brought from a coop's previous system, in bulk: `member_create` for many,
    keeping their member numbers and card barcodes, with past dates.

    Each row: the fields of IMPORT_MEMBER_FIELDS, `member_number` (None: the next numbers after the
    highest ever issued or imported, in row order) and `card_barcode` (None: made as usual). The
    rules of `member_create` hold (names, a valid e-mail no other member uses, a known shift type,
    no joining date in the future), plus: numbers and cards no member or associate holds, cards
    valid EAN-13 codes (`card_barcode_errors`), a leaving date between joining and today. The shift
    type holds from `joined_on`; a member who left is `left` from `left_on` (their subscriptions,
    imported next, are marked for redemption then). The member sequence ends at the highest number.
    """
    errors: dict[str, list[str]] = {}
    cleaned_rows = []
    for index, row in enumerate(rows):
        unknown = set(row) - {*IMPORT_MEMBER_FIELDS, "member_number", "card_barcode"}
        if unknown:
            raise ValueError(f"unknown member fields {sorted(unknown)}")
        cleaned, field_errors = member_fields_errors({k: row.get(k) for k in ("first_name", "last_name", "email", "shift_type")})
        for field, messages in field_errors.items():
            for message in messages:
                _row_errors(errors, index, field, message)
        joined_on, left_on = row["joined_on"], row.get("left_on")
        if joined_on > today:
            _row_errors(errors, index, "joined_on", _("The joining date cannot be in the future."))
        if left_on is not None and not joined_on <= left_on <= today:
            _row_errors(errors, index, "left_on", _("The leaving date is between the joining date and today."))
        number = row.get("member_number")
        if number is not None and not 1 <= number <= 99_999_999:
            _row_errors(errors, index, "member_number", _("Member numbers run from 1 to 99,999,999."))
        if row.get("card_barcode") and number is not None:
            problem = card_barcode_errors(row["card_barcode"], member_number=number)
            if problem:
                _row_errors(errors, index, "card_barcode", problem)
        cleaned_rows.append({**row, **cleaned})
    given = [r["member_number"] for r in cleaned_rows if r.get("member_number")]
    emails = [r["email"].lower() for r in cleaned_rows]
    taken_numbers, taken_emails = set(), set()
    for chunk in _chunks(given):
        taken_numbers.update(Member.objects.filter(member_number__in=chunk).values_list("member_number", flat=True))
    for chunk in _chunks(emails):
        taken_emails.update(Member.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=chunk).values_list("lower_email", flat=True))
    cards = cards_taken([r["card_barcode"] for r in cleaned_rows if r.get("card_barcode")])
    seen_numbers, seen_emails, seen_cards = set(), set(), set()
    for index, row in enumerate(cleaned_rows):
        number, email, card = row.get("member_number"), row["email"].lower(), row.get("card_barcode")
        if number is not None and (number in taken_numbers or number in seen_numbers):
            _row_errors(errors, index, "member_number", _("Another member already has this number."))
        if email in taken_emails or email in seen_emails:
            _row_errors(errors, index, "email", _("Another member already uses this e-mail address."))
        if card and (card in cards or card in seen_cards):
            _row_errors(errors, index, "card_barcode", _("Another member or associate already holds this card."))
        seen_numbers.add(number)
        seen_emails.add(email)
        seen_cards.add(card)
    if errors:
        raise ValidationError(errors)
    next_number = max([_locked_sequence("member").last_value, *given]) + 1
    members = []
    for row in cleaned_rows:
        number = row.get("member_number")
        if number is None:
            number, next_number = next_number, next_number + 1
        fields = {name: row.get(name) for name in IMPORT_MEMBER_FIELDS}
        for name in ("phone", "address", "postal_code", "city", "notes", "blocked_reason"):
            fields[name] = (fields[name] or "").strip()
        fields["low_income"] = bool(fields["low_income"])
        member = Member(
            member_number=number,
            card_barcode=row.get("card_barcode") or member_barcode(number),
            shift_type_since=row["joined_on"],
            work_start_date_manual=False,
            membership=Member.Membership.LEFT if fields["left_on"] else Member.Membership.NONE,
            left_reason=_("Left before the import") if fields["left_on"] else "",
            **fields,
        )
        members.append(_prepared(member))
    cards = [m.card_barcode for m in members if m.card_barcode not in seen_cards]
    clash = cards_taken(cards)
    if clash:  # a made card that an imported associate or member already holds
        raise ValidationError({f"{i}:card_barcode": [_("The card made for this member is already held: give one.")]
                               for i, m in enumerate(members) if m.card_barcode in clash})
    Member.objects.bulk_create(members, batch_size=1000)
    sequence_raise("member", max(m.member_number for m in members) if members else 0)
    MemberStateChange.objects.bulk_create([
        MemberStateChange(member=m, field=field, value=value, effective_date=m.joined_on)
        for m in members
        for field, value in (("membership", Member.Membership.NONE), ("shift_type", m.shift_type))
    ], batch_size=2000)
    MemberStateChange.objects.bulk_create([
        MemberStateChange(member=m, field="membership", value=Member.Membership.LEFT, effective_date=m.left_on)
        for m in members if m.left_on
    ], batch_size=2000)
    author = by if by and by.pk else None
    MemberEvent.objects.bulk_create([MemberEvent(member=m, kind=IMPORTED, detail="", author=author) for m in members], batch_size=2000)
    return members


@transaction.atomic
def subscriptions_import(*, rows: list[dict], today: datetime.date, by=None) -> list[ShareSubscription]:
    """Record share subscriptions and their payments brought from a coop's previous system, in
    bulk: `share_subscribe` and `payment_record` for many, with past dates and the payments already
    made (any amount, possibly none yet).

    Each row: `member`, `share_class`, `quantity`, `instalments`, `subscribed_on`, `payments` =
    [(paid_on, amount, method, reference)]. The rules of those services hold: a quantity of at
    least 1, 1 to the parameter's instalments, a payment method of the office, nothing dated in the
    future, no payment before its subscription, no overpayment. A negative amount is the
    redemption of a member who left (the subscription is then redeemed on that date). A member who
    left has every subscription marked for redemption on their leaving date. The first-subscription
    minimum is not checked: these are past subscriptions (the membership shows what they hold).
    Call `memberships_settle` afterwards."""
    params = CoopParameters.current()
    errors: dict[str, list[str]] = {}
    office_methods = set(Payment.Method.values) - {Payment.Method.STRIPE}
    for index, row in enumerate(rows):
        member, subscribed_on = row["member"], row["subscribed_on"]
        if not isinstance(row["quantity"], int) or row["quantity"] < 1:
            _row_errors(errors, index, "quantity", _("The quantity must be at least 1."))
        if not isinstance(row["instalments"], int) or not 1 <= row["instalments"] <= params.max_instalments:
            _row_errors(errors, index, "instalments", _("Choose between 1 and %(max)d instalments.") % {"max": params.max_instalments})
        if subscribed_on > today:
            _row_errors(errors, index, "subscribed_on", _("A subscription cannot be dated in the future."))
        amount = row["share_class"].unit_price * max(row["quantity"], 0) if isinstance(row["quantity"], int) else Decimal(0)
        paid = Decimal("0")
        for paid_on, value, method, _reference in sorted(row["payments"], key=lambda p: p[0]):
            if method not in office_methods:
                _row_errors(errors, index, "payment_method", _("Choose cash, cheque, transfer or card."))
            if paid_on > today:
                _row_errors(errors, index, "paid_on", _("A payment cannot be dated in the future."))
            elif paid_on < subscribed_on:
                _row_errors(errors, index, "paid_on", _("A payment cannot be dated before its subscription (%(date)s).") % {"date": subscribed_on.isoformat()})
            if value == 0 or value != value.quantize(Decimal("0.01")):
                _row_errors(errors, index, "amount", _("An amount is not zero and has at most two decimals."))
            if value < 0 and member.left_on is None:
                _row_errors(errors, index, "amount", _("A negative amount is the redemption of a member who left."))
            paid += value
            if paid > amount:
                _row_errors(errors, index, "amount", _("This would overpay the subscription: %(amount)s € are due.") % {"amount": number_format(amount, 2)})
            if paid < 0:
                _row_errors(errors, index, "amount", _("More is refunded than was paid."))
    if errors:
        raise ValidationError(errors)
    author = by if by and by.pk else None
    subscriptions = []
    for row in rows:
        member, share_class = row["member"], row["share_class"]
        redeemed = [p for p in row["payments"] if p[1] < 0]
        left_on = member.left_on
        subscriptions.append(ShareSubscription(
            member=member, share_class=share_class, quantity=row["quantity"], unit_price=share_class.unit_price,
            amount=share_class.unit_price * row["quantity"], instalments=row["instalments"], subscribed_on=row["subscribed_on"],
            created_by=author,
            redemption_requested_on=left_on,
            redemption_due_on=left_on + datetime.timedelta(days=params.redemption_delay_days) if left_on else None,
            redeemed_on=max(p[0] for p in redeemed) if redeemed else None,
        ))
    ShareSubscription.objects.bulk_create(subscriptions, batch_size=1000)
    payments = [
        Payment(
            subscription=sub, kind=Payment.Kind.PAYMENT if amount > 0 else Payment.Kind.REDEMPTION, amount=abs(amount),
            method=method, paid_on=paid_on, reference=(reference or "")[:255], recorded_by=author,
        )
        for sub, row in zip(subscriptions, rows, strict=True)
        for paid_on, amount, method, reference in sorted(row["payments"], key=lambda p: p[0])
    ]
    Payment.objects.bulk_create(payments, batch_size=2000)
    MemberEvent.objects.bulk_create([
        MemberEvent(member=sub.member, kind="subscribed", detail=f"{sub.quantity} x {sub.share_class.code}, {sub.instalments} instalment(s)",
                    author=author)
        for sub in subscriptions
    ], batch_size=2000)
    return subscriptions


def memberships_settle(*, member_ids, today: datetime.date) -> int:
    """Compute and store the membership and work start date of these members as of `today`, in
    bulk, and date their history as `membership_refresh` does (from the day the membership really
    began); a member who left gets the membership they had before leaving in the history, dated
    likewise. No signal is sent: the caller recomputes their working statuses. Returns how many
    members changed."""
    overdue_days = CoopParameters.current().instalment_overdue_days
    changed_total = 0
    for chunk in _chunks(member_ids, 2000):
        members = list(_members_with_ledger(Member.objects.filter(pk__in=chunk)).order_by("pk"))
        history: dict[int, list[MemberStateChange]] = {}
        for row in MemberStateChange.objects.filter(member_id__in=chunk, field="membership").order_by("effective_date", "id"):
            history.setdefault(row.member_id, []).append(row)
        changed, rows = [], []
        for member in members:
            subs = list(member.subscriptions.all())
            rows_of = history.get(member.pk, [])
            before = (member.membership, member.work_start_date)
            if member.left_on is not None:
                # The membership held until the day before leaving, from the subscriptions as they
                # were then (leaving marked them for redemption).
                facts = [
                    f for sub, f in zip(subs, _subscription_facts(member, subs, held_only=False), strict=True)
                    if sub.redemption_requested_on in (None, member.left_on)
                ]
                if member.work_start_date is None and not member.work_start_date_manual:
                    member.work_start_date = ms.first_active_date(facts, overdue_days=overdue_days)
                last_day = member.left_on - datetime.timedelta(days=1)
                value = ms.membership_status(facts, left=False, day=last_day, overdue_days=overdue_days)
                if value != ms.NONE and last_day >= member.joined_on and not any(r.value == value for r in rows_of):
                    since = ms.membership_since(facts, day=last_day, overdue_days=overdue_days, floor=member.joined_on)
                    rows.append(MemberStateChange(member=member, field="membership", value=value, effective_date=since))
                member.membership = Member.Membership.LEFT
            else:
                facts = _subscription_facts(member, subs)
                _apply_membership(member, facts, today=today, overdue_days=overdue_days)
                last = rows_of[-1] if rows_of else None
                if last is None or last.value != member.membership:
                    floor = last.effective_date if last is not None else member.joined_on
                    since = ms.membership_since(facts, day=today, overdue_days=overdue_days, floor=floor)
                    rows.append(MemberStateChange(member=member, field="membership", value=member.membership, effective_date=since))
            if (member.membership, member.work_start_date) != before:
                member.updated_at = timezone.now()
                changed.append(member)
        Member.objects.bulk_update(changed, ["membership", "work_start_date", "updated_at"], batch_size=1000)
        MemberStateChange.objects.bulk_create(rows, batch_size=2000)
        changed_total += len(changed)
    return changed_total


@transaction.atomic
def associates_import(*, rows: list[dict], by=None) -> list[Associate]:
    """Attach household associates brought from a coop's previous system, in bulk: `associate_add`
    for many, keeping their cards. Each row: `member`, `first_name`, `last_name`, `card_barcode`
    (None: the next associate number's card) and `removed_on` (the associates of a member who left
    were removed when they left). The rules of `associate_add` hold: names, at most the parameter's
    current associates per member (those already attached count), no member who left gets a
    current one; a given card is a valid EAN-13 (`card_barcode_errors`) nobody holds; numbers are
    free. The associate sequence ends at the highest number."""
    params = CoopParameters.current()
    errors: dict[str, list[str]] = {}
    cleaned_rows = []
    member_ids = {row["member"].pk for row in rows}
    current: dict[int, int] = {}
    for chunk in _chunks(member_ids):
        for member_id in Associate.objects.filter(member_id__in=chunk, removed_on__isnull=True).values_list("member_id", flat=True):
            current[member_id] = current.get(member_id, 0) + 1
    cards = cards_taken([row["card_barcode"] for row in rows if row.get("card_barcode")])
    for row in rows:
        if (row.get("card_barcode") or "").startswith(ASSOCIATE_PREFIX) and row.get("associate_number") is None:
            row["associate_number"] = int(row["card_barcode"][4:12])
    numbers_given = [row["associate_number"] for row in rows if row.get("associate_number")]
    numbers_taken = set()
    for chunk in _chunks(numbers_given):
        numbers_taken.update(Associate.objects.filter(associate_number__in=chunk).values_list("associate_number", flat=True))
    seen_cards = set()
    for index, row in enumerate(rows):
        fields, field_errors = member_fields_errors({"first_name": row["first_name"], "last_name": row["last_name"]})
        for field, messages in field_errors.items():
            for message in messages:
                _row_errors(errors, index, field, message)
        member, card = row["member"], row.get("card_barcode")
        if row.get("removed_on") is None:
            if member.left_on is not None:
                _row_errors(errors, index, "member_number", _("This member has left the coop."))
            current[member.pk] = current.get(member.pk, 0) + 1
            if current[member.pk] > params.max_associates:
                _row_errors(errors, index, "member_number", _("A member may attach at most %(max)d household associate(s).") % {"max": params.max_associates})
        if card:
            problem = card_barcode_errors(card, associate=True)
            if problem:
                _row_errors(errors, index, "card_barcode", problem)
            elif card in cards or card in seen_cards:
                _row_errors(errors, index, "card_barcode", _("Another member or associate already holds this card."))
            elif card.startswith(ASSOCIATE_PREFIX) and int(card[4:12]) != row["associate_number"]:
                _row_errors(errors, index, "card_barcode", _("A code starting 0421 is the card of the associate whose number it carries."))
            seen_cards.add(card)
        number = row.get("associate_number")
        if number is not None and (number in numbers_taken or numbers_given.count(number) > 1 or not 1 <= number <= 99_999_999):
            _row_errors(errors, index, "card_barcode", _("Another associate already has this number."))
        cleaned_rows.append({**row, **fields})
    if errors:
        raise ValidationError(errors)
    next_number = max([_locked_sequence("associate").last_value, *numbers_given]) + 1
    associates = []
    from .text import search_key

    for row in cleaned_rows:
        card = row.get("card_barcode")
        number = row.get("associate_number")
        if number is None:
            number, next_number = next_number, next_number + 1
        associates.append(Associate(
            member=row["member"], associate_number=number, card_barcode=card or associate_barcode(number),
            first_name=row["first_name"], last_name=row["last_name"], removed_on=row.get("removed_on"),
            search_name=search_key(f"{row['first_name']} {row['last_name']}"),
        ))
    made = cards_taken([a.card_barcode for a in associates if a.card_barcode not in seen_cards])
    if made:
        raise ValidationError({f"{i}:card_barcode": [_("The card made for this associate is already held: give one.")]
                               for i, a in enumerate(associates) if a.card_barcode in made})
    Associate.objects.bulk_create(associates, batch_size=1000)
    if associates:
        sequence_raise("associate", max(a.associate_number for a in associates))
    author = by if by and by.pk else None
    MemberEvent.objects.bulk_create([
        MemberEvent(member=a.member, kind="associate_added", detail=f"{a.first_name} {a.last_name}", author=author) for a in associates
    ], batch_size=2000)
    return associates
