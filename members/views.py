"""Pages of the members office and the cooperator's own page. Views parse, call a service, render."""
import json
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from coopmarket.errors import RuleViolation
from coopmarket.forms import add_service_errors
from coopmarket.roles import CoordinatorRequiredMixin, is_coordinator
from coopmarket.tables import SafeExportMixin
from coopmarket.templatetags.coop import euros

from . import documents, privacy, selectors, services, stripe_payments
from .filters import MemberFilter, RedemptionFilter
from .forms import (
    AssociateForm,
    InvitationForm,
    MemberEditForm,
    MemberForm,
    PaymentForm,
    ReasonForm,
    RedemptionForm,
    SubscribeForm,
)
from .models import Associate, CoopParameters, Member, Payment, ShareClass, ShareSubscription, StripeCheckout
from .qualifications import member_qualification_rows
from .tables import MemberTable, RedemptionTable


def coordinator_required(view):
    """Function-view guard: login first, then the coordinators role (403 otherwise)."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_coordinator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


class MemberListView(CoordinatorRequiredMixin, SafeExportMixin, SingleTableMixin, FilterView):
    table_class = MemberTable
    filterset_class = MemberFilter
    template_name = "members/member_list.html"
    table_pagination = {"per_page": 50}
    export_name = "members"

    def get_queryset(self):
        return selectors.members_with_shares()


# --- the member's history ---------------------------------------------------------------------

EVENT_LABELS = {
    "registered": gettext_lazy("Registered"),
    "edited": gettext_lazy("Details changed"),
    "subscribed": gettext_lazy("Shares subscribed"),
    "payment": gettext_lazy("Payment recorded"),
    "associate_added": gettext_lazy("Household associate added"),
    "associate_removed": gettext_lazy("Household associate removed"),
    "left": gettext_lazy("Left the coop"),
    "redeemed": gettext_lazy("Shares refunded"),
    "anonymised": gettext_lazy("Personal data erased"),
    "login_created": gettext_lazy("Login created"),
    "login_email_changed": gettext_lazy("Login e-mail confirmed by the member"),
    "refunded": gettext_lazy("Online payment refunded"),
    "qualification_granted": gettext_lazy("Qualification granted"),
    "qualification_revoked": gettext_lazy("Qualification revoked"),
    "welcomed": gettext_lazy("Welcomed"),
}
_SUBSCRIBED = re.compile(r"^(?P<quantity>\d+) x (?P<code>\S+), (?P<instalments>\d+) instalment\(s\)$")
_AMOUNT = re.compile(r"^(?P<amount>-?\d+(?:\.\d+)?) EUR(?: \((?P<method>\w+)\))?$")


def event_text(kind: str, detail: str) -> tuple[str, str]:
    """A history row's label and detail in the reader's language.

    The services log a kind code and a terse English detail (`members.services._log`); known kinds
    and details are translated, anything else is shown as stored.
    """
    label = str(EVENT_LABELS.get(kind, kind))
    if kind == "edited" and detail:
        names = []
        for name in detail.split(", "):
            try:
                names.append(str(Member._meta.get_field(name).verbose_name))
            except FieldDoesNotExist:  # a field that no longer exists: show its name
                names.append(name)
        return label, ", ".join(names)
    if kind == "subscribed" and (match := _SUBSCRIBED.match(detail)):
        instalments = int(match["instalments"])
        text = f"{match['quantity']} × {match['code']}"
        if instalments > 1:
            text += " · " + ngettext("%(n)d instalment", "%(n)d instalments", instalments) % {"n": instalments}
        return label, text
    if kind in ("payment", "redeemed", "refunded") and (match := _AMOUNT.match(detail)):
        text = euros(match["amount"])
        if match["method"] in Payment.Method.values:
            text += f" · {Payment.Method(match['method']).label}"
        return label, text
    return label, detail


def _history(events) -> list[dict]:
    rows = []
    for event in events:
        label, detail = event_text(event.kind, event.detail)
        rows.append({"created_at": event.created_at, "label": label, "detail": detail, "author": event.author})
    return rows


def _max_associates_text(max_associates: int) -> str:
    return ngettext(
        "This member already has the maximum of %(max)d household associate (a coop parameter).",
        "This member already has the maximum of %(max)d household associates (a coop parameter).",
        max_associates,
    ) % {"max": max_associates}


def _member_context(member: Member) -> dict:
    """A member with subscriptions, payments and associates prefetched, for the detail pages."""
    member = (
        Member.objects.select_related("user")
        .prefetch_related(
            Prefetch(
                "subscriptions",
                queryset=ShareSubscription.objects.select_related("share_class")
                .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("paid_on", "id")))
                .order_by("subscribed_on", "id"),
            )
        )
        .get(pk=member.pk)
    )
    holdings = selectors.holdings(member)
    associates = list(member.associates.filter(removed_on__isnull=True))
    max_associates = CoopParameters.current().max_associates
    return {
        "member": member,
        "subscriptions": member.subscriptions.all(),
        "holdings": holdings,
        "amount_due": sum((h["amount_due"] for h in holdings), 0),
        "associates": associates,
        # Why "Add an associate" is not offered, when the member has reached the coop's maximum.
        "associate_limit": _max_associates_text(max_associates) if len(associates) >= max_associates else "",
        "history": _history(member.events.select_related("author")[:30]),
        "invitation_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "online": stripe_payments.online_context(member),
        "qualification_rows": member_qualification_rows(member, today=timezone.localdate()),
    }


@coordinator_required
def member_detail(request, pk):
    member = get_object_or_404(Member, pk=pk)
    return render(request, "members/member_detail.html", _member_context(member))


@coordinator_required
def member_create(request):
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_create(joined_on=timezone.localdate(), by=request.user, **form.cleaned_data)
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Member %(number)s registered. Now record their shares.") % {"number": member.display_number})
            return redirect("members:subscribe", pk=member.pk)
    return render(request, "members/simple_form.html", {"form": form, "title": _("Register a member")})


@coordinator_required
def member_edit(request, pk):
    member = get_object_or_404(Member, pk=pk)
    form = MemberEditForm(request.POST or None, instance=Member.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            member = services.member_update(
                member=member, by=request.user, today=timezone.localdate(), site_url=request.build_absolute_uri("/"),
                **changed,
            )
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            if "email" in changed:
                _login_email_message(request, member)
            return redirect(member)
    return render(request, "members/simple_form.html", {"form": form, "member": member, "title": _("Edit %(name)s") % {"name": member.full_name}})


def _login_email_message(request, member: Member) -> None:
    """What became of the member's login after the office changed their e-mail."""
    state = selectors.login_email_state(member)
    if state == "kept":
        messages.warning(request, _("The login linked to this member is a staff or role account: its e-mail and username were not changed."))
    elif state == "pending":
        messages.info(request, _("The member's login changes once they confirm the link sent to %(email)s (the old address was told).") % {"email": member.email})


@coordinator_required
def member_subscribe(request, pk):
    member = get_object_or_404(Member, pk=pk)
    form = SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.share_subscribe(member=member, today=timezone.localdate(), by=request.user, **form.cleaned_data)
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Shares recorded."))
            return redirect(member)
    return render(request, "members/simple_form.html", {
        "form": form, "member": member, "title": _("Subscribe shares"),
        "intro": _("A first subscription to a shopping class needs its minimum (class A: 10 shares, 1 for a member flagged low income). The first payment is recorded now: the whole amount, or the first instalment."),
    })


@coordinator_required
def payment_create(request, pk):
    member = get_object_or_404(Member, pk=pk)
    form = PaymentForm(request.POST or None, member=member)
    if request.method == "GET" and not form.has_amount_due:
        messages.info(request, _("Nothing is due on this member's shares."))
        return redirect(member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.payment_record(
                subscription=data["subscription"], amount=data["amount"], method=data["payment_method"],
                paid_on=data["paid_on"], reference=data["reference"], today=timezone.localdate(), by=request.user,
            )
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Payment recorded."))
            return redirect(member)
    return render(request, "members/simple_form.html", {
        "form": form, "member": member, "title": _("Record a payment"), "submit_label": _("Record the payment"),
    })


@coordinator_required
def associate_create(request, pk):
    member = get_object_or_404(Member, pk=pk)
    max_associates = CoopParameters.current().max_associates
    if request.method == "GET" and member.associates.filter(removed_on__isnull=True).count() >= max_associates:
        messages.info(request, _max_associates_text(max_associates))
        return redirect(member)
    form = AssociateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.associate_add(member=member, by=request.user, **form.cleaned_data)
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Household associate added."))
            return redirect(member)
    return render(request, "members/simple_form.html", {"form": form, "member": member, "title": _("Add a household associate")})


@coordinator_required
@require_POST
def associate_remove(request, pk, associate_id):
    associate = get_object_or_404(Associate, pk=associate_id, member_id=pk, removed_on__isnull=True)
    services.associate_remove(associate=associate, today=timezone.localdate(), by=request.user)
    messages.success(request, _("Household associate removed."))
    return redirect(associate.member)


@coordinator_required
def member_leave(request, pk):
    member = get_object_or_404(Member, pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_leave(member=member, reason=form.cleaned_data["reason"], today=timezone.localdate(), by=request.user)
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The member has left the coop; their shares are marked for redemption."))
            return redirect(member)
    return render(request, "members/simple_form.html", {
        "form": form, "member": member, "title": _("Leaving the coop"),
        "intro": _("The member becomes 'left' at once: their shares are marked for redemption, their regular slot and future shifts are cancelled. Nothing is deleted."),
        "danger": True, "submit_label": _("Confirm the departure"),
    })


@coordinator_required
@require_POST
def member_anonymise(request, pk):
    member = get_object_or_404(Member, pk=pk)
    try:
        services.member_anonymise(member=member, today=timezone.localdate(), by=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Personal data erased; the accounting rows are kept."))
    return redirect(member)


@coordinator_required
@require_POST
def member_invite(request, pk):
    """Give the member a login and e-mail them a link to choose their password.

    A member whose login never got a password (the invitation was lost or expired) is sent the
    invitation again: Django's "forgotten password" form ignores logins without a usable password.
    """
    member = get_object_or_404(Member, pk=pk)
    try:
        user = services.member_invitation_login(member=member, by=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
        return redirect(member)
    invitation = InvitationForm(user=user)
    if invitation.is_valid():
        invitation.save(request=request, use_https=request.is_secure(), email_template_name="registration/invitation_email.txt",
                        subject_template_name="registration/invitation_subject.txt")
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
    return redirect(member)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _member_for(request, pk) -> Member:
    """The member a document is asked for: coordinators any, a cooperator only their own (else 403)."""
    member = get_object_or_404(Member, pk=pk)
    if is_coordinator(request.user) or (member.user_id and member.user_id == request.user.pk):
        return member
    raise PermissionDenied


@login_required
def member_certificate(request, pk):
    member = _member_for(request, pk)
    return _pdf_response(documents.render_certificate(member, today=timezone.localdate()), f"certificate-{member.display_number}.pdf")


@login_required
def member_card(request, pk):
    member = _member_for(request, pk)
    return _pdf_response(documents.render_card(member), f"card-{member.display_number}.pdf")


class RedemptionListView(CoordinatorRequiredMixin, SafeExportMixin, SingleTableMixin, FilterView):
    """The treasurer's list of shares to refund to members who left."""

    table_class = RedemptionTable
    template_name = "members/redemption_list.html"
    table_pagination = {"per_page": 50}
    export_name = "redemptions"
    filterset_class = RedemptionFilter

    def get_queryset(self):
        return selectors.redemption_queue()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["today"] = timezone.localdate()
        return context


@coordinator_required
@require_POST
def redemption_record(request, subscription_id):
    subscription = get_object_or_404(ShareSubscription, pk=subscription_id)
    form = RedemptionForm(request.POST)
    if form.is_valid():
        try:
            services.redemption_record(subscription=subscription, today=timezone.localdate(), by=request.user, **form.cleaned_data)
        except (ValidationError, RuleViolation) as exc:
            messages.error(request, exc.message if isinstance(exc, RuleViolation) else "; ".join(exc.messages))
        else:
            messages.success(request, _("Redemption recorded."))
    else:
        messages.error(request, _("Choose a refund method."))
    return redirect("members:redemptions")


# --- online payments (Stripe Checkout) -------------------------------------------------------

def _back_to(request, member: Member):
    """The page a member-or-office action returns to."""
    return redirect(member) if is_coordinator(request.user) else redirect("me:page")


def _quantity(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _checkout_urls(request) -> tuple[str, str]:
    # Stripe fills {CHECKOUT_SESSION_ID} itself: the braces must reach it unencoded.
    done = request.build_absolute_uri(reverse("members:stripe_success")) + "?session_id={CHECKOUT_SESSION_ID}"
    cancelled = request.build_absolute_uri(reverse("members:stripe_cancel")) + "?session_id={CHECKOUT_SESSION_ID}"
    return done, cancelled


@login_required
@require_POST
def pay_online(request, pk):
    """The "Pay online" form (the member's page and the office's): off to Stripe Checkout."""
    member = _member_for(request, pk)
    share_class = ShareClass.objects.filter(code=request.POST.get("share_class", "")).first()
    success_url, cancel_url = _checkout_urls(request)
    try:
        checkout = stripe_payments.checkout_start(
            member=member, share_class=share_class, quantity=_quantity(request.POST.get("quantity")),
            success_url=success_url, cancel_url=cancel_url, by=request.user,
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except stripe_payments.StripeFailure as exc:
        messages.error(request, exc.message)
    else:
        return redirect(checkout.checkout_url)
    return _back_to(request, member)


def _checkout_for(request) -> StripeCheckout:
    checkout = get_object_or_404(StripeCheckout.objects.select_related("member", "share_class"), session_id=request.GET.get("session_id", ""))
    _member_for(request, checkout.member_id)
    return checkout


@login_required
def online_payment_done(request):
    """Stripe's success page: shows the state the webhook recorded (it may not have arrived yet)."""
    checkout = _checkout_for(request)
    return render(request, "members/stripe/success.html", {"checkout": checkout, "member": checkout.member})


@login_required
def online_payment_cancelled(request):
    checkout = _checkout_for(request)
    return render(request, "members/stripe/cancel.html", {"checkout": checkout, "member": checkout.member})


@coordinator_required
@require_POST
def stripe_refund(request, pk, payment_id):
    payment = get_object_or_404(
        Payment, pk=payment_id, subscription__member_id=pk, method=Payment.Method.STRIPE, kind=Payment.Kind.PAYMENT
    )
    try:
        stripe_payments.refund_create(payment=payment, today=timezone.localdate(), by=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    except stripe_payments.StripeFailure as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Refund made through Stripe and recorded in the ledger."))
    return redirect("members:detail", pk=pk)


# --- the cooperator's own page ---------------------------------------------------------------

def _own_member(request) -> Member:
    member = Member.objects.filter(user=request.user).first()
    if member is None:
        raise Http404(_("Your account is not linked to a member."))
    return member


@login_required
def me_certificate(request):
    return member_certificate(request, _own_member(request).pk)


@login_required
def me_card(request):
    return member_card(request, _own_member(request).pk)


@login_required
def me_data(request):
    member = _own_member(request)
    payload = json.dumps(privacy.member_export(member), indent=2, ensure_ascii=False)
    response = HttpResponse(payload, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-data-{member.display_number}.json"'
    return response


@login_required
def me_email_confirm(request, token):
    """The link mailed to a member's new address: signed in as that login, confirm (POST) the
    change of the login's e-mail. GET shows what changes and a button; it changes nothing."""
    try:
        if request.method == "POST":
            user = services.login_email_confirm(user=request.user, token=token)
            if user.username.lower() == user.email.lower():
                messages.success(request, _("Your login e-mail is changed: sign in with it from now on."))
            else:
                messages.success(request, _("Your account's e-mail address is changed."))
            return redirect("me:page")
        change = services.login_email_change_read(user=request.user, token=token)
    except ValidationError as exc:
        return render(request, "members/email_confirm.html", {"errors": exc.messages}, status=400)
    return render(request, "members/email_confirm.html", {"change": change})
