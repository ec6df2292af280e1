"""The assembly pages: the coordinators' list and detail (live quorum, convening, proxies,
resolutions, tallies, votes), the voter list, the sign-in desk (coordinators and `cashiers`),
the room's screen, the PDFs, and the member's proxy and phone-vote pages.

Views parse, check who may come in, call one service and render; a service's refusal becomes a
message. The clock is read here (`clock_now`, replaced by the tests).
"""
from __future__ import annotations

import datetime
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from coopmarket import roles
from coopmarket.errors import RuleViolation
from coopmarket.forms import add_service_errors
from coopmarket.tables import SafeExportMixin
from members.models import Member

from . import documents, forms, selectors, services
from . import rules as r
from .filters import AssemblyFilter, VoterFilter
from .models import Assembly, Resolution
from .tables import AssemblyTable, VoterTable, state_of


def clock_now() -> datetime.datetime:
    return timezone.now()


def _guard(test):
    """Anonymous users go to the login page; signed-in users who fail `test` get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


coordinator_required = _guard(roles.is_coordinator)
desk_required = _guard(lambda user: roles.is_coordinator(user) or roles.is_cashier(user))


def _own_member(request) -> Member:
    member = Member.objects.filter(user_id=request.user.pk).first()
    if member is None:
        raise Http404(_("Your account is not linked to a member."))
    return member


def _apply(request, call, success: str | None = None) -> bool:
    """Run a service; its refusal becomes an error message. True when it went through."""
    try:
        call()
    except RuleViolation as exc:
        messages.error(request, exc.message)
        return False
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    if success:
        messages.success(request, success)
    return True


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- the coordinators' pages ---------------------------------------------------------------------

class AssemblyListView(SafeExportMixin, SingleTableMixin, FilterView):
    """Every assembly with its voters, present and represented (one query), for coordinators and
    the desk's device accounts (who need its link)."""

    table_class = AssemblyTable
    filterset_class = AssemblyFilter
    template_name = "assemblies/list.html"
    table_pagination = {"per_page": 25}
    export_name = "assemblies"

    def dispatch(self, request, *args, **kwargs):
        return desk_required(super().dispatch)(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.assemblies_with_counts()

    def get_table_kwargs(self):
        return {"prospective": selectors.eligible_members().count(), "desk_only": not roles.is_coordinator(self.request.user)}


def _detail_context(assembly: Assembly, *, today: datetime.date) -> dict:
    rules = selectors.current_rules()
    starts_on = services.local_date(assembly.starts_at)
    resolutions = selectors.resolutions_with_turnout(assembly)
    return {
        "assembly": assembly,
        "state": state_of(assembly),
        "quorum": selectors.quorum_of(assembly, rules=rules),
        "resolutions": resolutions,
        "vote_in_progress": any(r.state == Resolution.State.OPEN for r in resolutions),
        "proxies": list(selectors.live_proxies(assembly)),
        "last_convening_day": r.last_convening_day(starts_on, assembly.convocation, rules),
        "may_convene": assembly.opened_at is None and r.may_convene(
            starts_on=starts_on, convocation=assembly.convocation, today=today, rules=rules),
        "may_open": assembly.opened_at is None and today >= assembly.cutoff,
        "max_proxies": rules.max_proxies,
        "proxy_form": forms.ProxyOfficeForm(),
        "resolution_form": forms.ResolutionForm(),
    }


@coordinator_required
def assembly_detail(request, pk):
    assembly = get_object_or_404(Assembly, pk=pk)
    return render(request, "assemblies/detail.html", _detail_context(assembly, today=services.local_date(clock_now())))


@coordinator_required
def assembly_create(request):
    form = forms.AssemblyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assembly = services.assembly_create(today=services.local_date(clock_now()), by=request.user, **form.cleaned_data)
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Assembly created. Convene it before %(date)s.") % {"date": assembly.cutoff})
            return redirect(assembly)
    return render(request, "assemblies/form.html", {"form": form})


@coordinator_required
def assembly_edit(request, pk):
    assembly = get_object_or_404(Assembly, pk=pk)
    initial = {name: getattr(assembly, name) for name in forms.AssemblyForm.base_fields}
    initial["starts_at"] = timezone.localtime(assembly.starts_at)
    form = forms.AssemblyForm(request.POST or None, initial=initial)
    if assembly.convened_at or assembly.frozen:  # the voters were told: these stay as they are
        for name in services.EDITABLE_BEFORE_CONVENING:
            form.fields[name].disabled = True
    if request.method == "POST" and form.is_valid():
        fields = {name: value for name, value in form.cleaned_data.items() if not (name == "cutoff" and value is None)}
        try:
            services.assembly_update(assembly=assembly, today=services.local_date(clock_now()), by=request.user, **fields)
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Assembly saved."))
            return redirect(assembly)
    return render(request, "assemblies/form.html", {"form": form, "assembly": assembly})


def _assembly_action(service, success):
    @require_POST
    @coordinator_required
    def view(request, pk):
        assembly = get_object_or_404(Assembly, pk=pk)
        now = clock_now()
        _apply(request, lambda: service(assembly=assembly, today=services.local_date(now), now=now, by=request.user), str(success))
        return redirect(assembly)

    return view


def _convene(*, assembly, today, now, by):
    return services.assembly_convene(assembly=assembly, today=today, now=now, by=by)


def _close(*, assembly, today, now, by):
    return services.assembly_close(assembly=assembly, now=now, by=by)


convene = _assembly_action(_convene, gettext_lazy("The convening e-mails are on their way to every voter."))
open_assembly = _assembly_action(services.assembly_open, gettext_lazy("The assembly is open: proxies are final."))
close_assembly = _assembly_action(_close, gettext_lazy("The assembly is closed. The minutes are final."))


@require_POST
@coordinator_required
def proxy_add(request, pk):
    """A paper proxy handed to the members office."""
    assembly = get_object_or_404(Assembly, pk=pk)
    form = forms.ProxyOfficeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(assembly)
    now = clock_now()
    giver, holder = form.cleaned_data["giver_member"], form.cleaned_data["holder_member"]
    _apply(request, lambda: services.proxy_give(assembly=assembly, giver=giver, holder=holder, today=services.local_date(now),
                                                now=now, by=request.user),
           _("%(giver)s's proxy goes to %(holder)s.") % {"giver": giver.full_name, "holder": holder.full_name})
    return redirect(assembly)


@require_POST
@coordinator_required
def proxy_revoke(request, pk, giver_id):
    assembly = get_object_or_404(Assembly, pk=pk)
    giver = get_object_or_404(Member, pk=giver_id)
    _apply(request, lambda: services.proxy_revoke(assembly=assembly, giver=giver, now=clock_now(), by=request.user),
           _("Proxy revoked."))
    return redirect(assembly)


@require_POST
@coordinator_required
def resolution_add(request, pk):
    assembly = get_object_or_404(Assembly, pk=pk)
    form = forms.ResolutionForm(request.POST)
    if form.is_valid():
        _apply(request, lambda: services.resolution_add(assembly=assembly, by=request.user, **form.cleaned_data),
               _("Resolution added."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(f"{assembly.get_absolute_url()}#resolutions")


def _resolution(pk, rid) -> Resolution:
    return get_object_or_404(Resolution.objects.select_related("assembly"), pk=rid, assembly_id=pk)


@require_POST
@coordinator_required
def resolution_tally(request, pk, rid):
    resolution = _resolution(pk, rid)
    form = forms.TallyForm(request.POST)
    if form.is_valid():
        _apply(request, lambda: services.resolution_tally(resolution=resolution, now=clock_now(), by=request.user, **form.cleaned_data),
               _("Counts recorded."))
    else:
        messages.error(request, _("Enter each count as a whole number, 0 or more."))
    return redirect(f"{resolution.assembly.get_absolute_url()}#resolution-{resolution.pk}")


def _resolution_action(service, success):
    """A POST on a resolution that calls one service (open or close the vote)."""

    @require_POST
    @coordinator_required
    def view(request, pk, rid):
        resolution = _resolution(pk, rid)
        _apply(request, lambda: service(resolution=resolution, now=clock_now(), by=request.user), str(success))
        return redirect(f"{resolution.assembly.get_absolute_url()}#resolution-{resolution.pk}")

    return view


resolution_open = _resolution_action(services.resolution_open, gettext_lazy("The vote is open: voters vote on their phones."))
resolution_close = _resolution_action(services.resolution_close, gettext_lazy("The vote is closed."))


class VoterListView(SafeExportMixin, SingleTableMixin, FilterView):
    """The voter list with sign-ins and proxies: one query for the rows."""

    table_class = VoterTable
    filterset_class = VoterFilter
    template_name = "assemblies/voters.html"
    table_pagination = {"per_page": 100}

    def dispatch(self, request, *args, **kwargs):
        return coordinator_required(super().dispatch)(request, *args, **kwargs)

    def get_queryset(self):
        self.assembly = get_object_or_404(Assembly, pk=self.kwargs["pk"])
        return selectors.voter_rows(self.assembly)

    def get_export_filename(self, export_format):
        return f"voters-{self.assembly.pk}.{export_format}"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "assembly": self.assembly}


@coordinator_required
def sign_in_sheet(request, pk):
    assembly = get_object_or_404(Assembly, pk=pk)
    return _pdf(documents.sign_in_sheet_pdf(assembly), f"sign-in-{assembly.pk}.pdf")


@login_required
def minutes(request, pk):
    """The minutes: coordinators at any time (a draft until closed); members once the assembly is closed."""
    assembly = get_object_or_404(Assembly, pk=pk)
    if not roles.is_coordinator(request.user):
        member = Member.objects.filter(user_id=request.user.pk).first()
        if member is None or assembly.closed_at is None:
            raise PermissionDenied
    return _pdf(documents.minutes_pdf(assembly), f"minutes-{assembly.pk}.pdf")


# --- the door and the room -----------------------------------------------------------------------

def _desk_texts() -> dict:
    """Every word the desk's script shows, translated here (the script holds no text)."""
    return {
        "signed_in": _("Signed in"), "already": _("Already signed in at %(time)s"), "not_voter": _("Not a voter"),
        "carries": _("Carries the proxy of: %(names)s"), "gave": _("Their proxy to %(name)s is void: they vote themselves."),
        "searching": _("Searching…"), "no_result": _("Nobody found among the voters."),
        "error": _("The server answered with an error: try again."), "signed_out": _("You are signed out: sign in again."),
        "offline": _("No answer from the server: check the network and scan again."),
    }


@desk_required
def desk(request, pk):
    """The sign-in desk: keyboard first like the till (scan, or F2 and a name)."""
    assembly = get_object_or_404(Assembly, pk=pk)
    return render(request, "assemblies/desk.html", {
        "assembly": assembly, "quorum": selectors.quorum_of(assembly),
        "api_url": reverse("assembly-detail", args=[assembly.pk]),
        "sign_in_url": reverse("assembly-sign-in", args=[assembly.pk]),
        "desk_texts": _desk_texts(), "time_zone": settings.COOP_TIME_ZONE,
    })


@login_required
def screen(request, pk):
    """The room's screen: live quorum and results (how many have voted while a vote is open, the
    counts once it is closed)."""
    assembly = get_object_or_404(Assembly, pk=pk)
    resolutions = selectors.resolutions_with_turnout(assembly)
    return render(request, "assemblies/screen.html", {
        "assembly": assembly, "quorum": selectors.quorum_of(assembly), "resolutions": resolutions,
        "api_url": reverse("assembly-detail", args=[assembly.pk]), "signature": live_signature(assembly, resolutions),
    })


# --- the member's pages --------------------------------------------------------------------------

@login_required
def proxy(request, pk):
    """My proxy for this assembly: give it to a voter (their number and last name), or revoke it."""
    assembly = get_object_or_404(Assembly, pk=pk)
    member = _own_member(request)
    now = clock_now()
    form = forms.ProxyForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            _apply(request, lambda: services.proxy_revoke(assembly=assembly, giver=member, now=now, by=request.user),
                   _("Your proxy is revoked: you vote yourself."))
            return redirect("assemblies:proxy", pk=assembly.pk)
        if form.is_valid():
            try:
                services.proxy_give(assembly=assembly, giver=member, holder=form.cleaned_data["holder"],
                                    today=services.local_date(now), now=now, by=request.user)
            except (ValidationError, RuleViolation) as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Your proxy goes to %(name)s, who will be told by e-mail.") % {
                    "name": form.cleaned_data["holder"].full_name})
                return redirect("assemblies:proxy", pk=assembly.pk)
    rules = selectors.current_rules()
    return render(request, "assemblies/proxy.html", {
        "assembly": assembly, "member": member, "form": form,
        "votes": selectors.is_voter(assembly, member, rules), "max_proxies": rules.max_proxies,
        "given": selectors.proxy_given_by(assembly, member),
        "carried": selectors.proxies_carried_by(assembly, member),
        "open": assembly.opened_at is not None, "convened": assembly.convened_at is not None or assembly.frozen,
    })


def live_signature(assembly: Assembly, resolutions: list[Resolution]) -> str:
    """What static/assemblies/live.js compares to reload the screen and the phone page."""
    return ",".join(f"{r.pk}:{r.state}" for r in resolutions) + "|" + ("closed" if assembly.closed_at else "")


def _vote_context(assembly: Assembly, member: Member) -> dict:
    resolutions = selectors.resolutions_with_turnout(assembly)
    resolution = next((r for r in resolutions if r.state == Resolution.State.OPEN), None)
    present = assembly.frozen and assembly.voters.filter(member=member, present_at__isnull=False).exists()
    context = {"assembly": assembly, "member": member, "resolution": resolution, "present": present,
               "api_url": reverse("assembly-detail", args=[assembly.pk]), "form": None, "done": [],
               "signature": live_signature(assembly, resolutions), "own_field": f"member_{member.pk}"}
    if resolution is not None and present:
        voting_for = [member] + [p.giver for p in selectors.proxies_carried_by(assembly, member)]
        done = selectors.voted_for(resolution, [m.pk for m in voting_for])
        context["done"] = [m for m in voting_for if m.pk in done]
        context["form"] = forms.VoteForm(members=[m for m in voting_for if m.pk not in done])
    return context


@login_required
def vote(request, pk):
    """The phone page: while a vote is open, my vote and one per proxy I carry."""
    assembly = get_object_or_404(Assembly, pk=pk)
    member = _own_member(request)
    if request.method == "POST":
        resolution = selectors.open_resolution(assembly)
        if resolution is None or str(resolution.pk) != request.POST.get("resolution"):
            messages.error(request, _("This vote is closed."))
            return redirect("assemblies:vote", pk=assembly.pk)
        form = forms.VoteForm(request.POST, members=[member, *(p.giver for p in selectors.proxies_carried_by(assembly, member))])
        if form.is_valid() and form.ballots():
            try:
                services.votes_cast(resolution=resolution, voter=member, ballots=form.ballots())
            except services.NotYourVote as exc:
                messages.error(request, str(exc))
            except RuleViolation as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Your vote is recorded. It is secret: nobody can see how you voted."))
        else:
            messages.error(request, _("Choose for, against or abstain."))
        return redirect("assemblies:vote", pk=assembly.pk)
    return render(request, "assemblies/vote.html", _vote_context(assembly, member))

