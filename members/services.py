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
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from coopmarket.errors import RuleViolation
from coopmarket.roles import is_privileged_login
from coopmarket.tokens import login_forget

from . import membership as ms
from .barcodes import associate_barcode, member_barcode
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


def _next_number(name: str) -> int:
    """Next value of a gap-free sequence; call inside the transaction that uses it."""
    Sequence.objects.get_or_create(name=name)
    seq = Sequence.objects.select_for_update().get(name=name)
    seq.last_value += 1
    seq.save(update_fields=["last_value"])
    return seq.last_value


def _clean_member_fields(fields: dict, *, instance: Member | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned = dict(fields)
    for name in ("first_name", "last_name"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
            if not cleaned[name]:
                errors[name] = [_("This field is required.")]
    if "email" in cleaned:
        email = (cleaned["email"] or "").strip()
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
        else:
            others = Member.objects.filter(email__iexact=email)
            if instance is not None:
                others = others.exclude(pk=instance.pk)
            if others.exists():
                errors["email"] = [_("Another member already uses this e-mail address.")]
        cleaned["email"] = email
    if "shift_type" in cleaned and cleaned["shift_type"] not in Member.ShiftType.values:
        errors["shift_type"] = [_("Choose standard or ftop.")]
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


def _subscription_facts(member: Member, subscriptions) -> list[ms.SubscriptionFacts]:
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
        if sub.redemption_requested_on is None
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
    member.email = f"anonymised-{member.member_number}@invalid"
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
