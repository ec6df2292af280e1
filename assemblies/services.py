"""Assembly services (DOMAIN.md §10): every write on assemblies goes through here.

Each service runs in one transaction, locks the assembly row first (so proxies, sign-ins,
freezing and votes of one assembly happen one after the other), checks everything before it
writes, and raises `ValidationError` (bad input: 400) or `RuleViolation` (a rule: 409). Time is
an argument (`today`, `now`); only views, commands and tasks read the clock.
"""
from __future__ import annotations

import datetime
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from coopmarket.errors import RuleViolation
from members.models import Member

from . import notifications, selectors
from . import rules as r
from .models import Assembly, BallotBox, Proxy, Resolution, VotedMark, Voter

CHOICES = ("for", "against", "abstain")
EDITABLE_ALWAYS = ("title", "place", "agenda")
EDITABLE_BEFORE_CONVENING = ("kind", "convocation", "starts_at", "cutoff")


def local_date(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE)).date()


def _locked(assembly: Assembly) -> Assembly:
    return Assembly.objects.select_for_update().get(pk=assembly.pk)


def _text(value, name: str, *, max_length: int, errors: dict, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        errors[name] = [_("Enter text.")]
        return ""
    if "\x00" in text:
        errors[name] = [_("Null characters are not allowed.")]
    elif required and not text:
        errors[name] = [_("This field is required.")]
    elif len(text) > max_length:
        errors[name] = [_("At most %(n)s characters.") % {"n": max_length}]
    return text


def _clean(fields: dict, *, today: datetime.date, rules: r.Rules, instance: Assembly | None = None) -> dict:
    """Validate assembly fields (all of them on creation, the given ones on an update)."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(fields)
    for name, limit in (("title", 200), ("place", 255), ("agenda", 20_000)):
        if name in cleaned:
            cleaned[name] = _text(cleaned[name], name, max_length=limit, errors=errors)
    if "kind" in cleaned and cleaned["kind"] not in Assembly.Kind.values:
        errors["kind"] = [_("Choose ordinary or extraordinary.")]
    if "convocation" in cleaned:
        try:
            cleaned["convocation"] = int(cleaned["convocation"])
        except (TypeError, ValueError):
            cleaned["convocation"] = 0
        if cleaned["convocation"] not in (1, 2):
            errors["convocation"] = [_("Choose 1 (first convocation) or 2 (second).")]
    starts_at = cleaned.get("starts_at", instance.starts_at if instance else None)
    if "starts_at" in cleaned:
        if not isinstance(starts_at, datetime.datetime) or starts_at.tzinfo is None:
            errors["starts_at"] = [_("Enter a date and time.")]
            starts_at = None
        elif local_date(starts_at) < today:
            errors["starts_at"] = [_("The assembly cannot be in the past.")]
    if starts_at is not None and ("cutoff" in cleaned or "starts_at" in cleaned):
        cutoff = cleaned.get("cutoff") if "cutoff" in cleaned else (instance.cutoff if instance else None)
        if cutoff is None:
            cutoff = r.default_cutoff(local_date(starts_at), today=today, rules=rules)
        if not isinstance(cutoff, datetime.date) or isinstance(cutoff, datetime.datetime):
            errors["cutoff"] = [_("Enter a date.")]
        elif cutoff < today:
            errors["cutoff"] = [_("The cut-off date cannot be in the past: the voter list is frozen from what is stored on that day.")]
        elif cutoff > local_date(starts_at):
            errors["cutoff"] = [_("The cut-off date must be on or before the day of the assembly.")]
        cleaned["cutoff"] = cutoff
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def assembly_create(
    *, title: str, kind: str, convocation: int, starts_at: datetime.datetime, place: str, agenda: str,
    today: datetime.date, cutoff: datetime.date | None = None, by=None,
) -> Assembly:
    """A new assembly; the cut-off defaults to `cutoff_days` before it (never before today)."""
    rules = selectors.current_rules()
    fields = _clean({"title": title, "kind": kind, "convocation": convocation, "starts_at": starts_at, "place": place,
                     "agenda": agenda, "cutoff": cutoff}, today=today, rules=rules)
    return Assembly.objects.create(created_by=by if by and by.pk else None, **fields)


@transaction.atomic
def assembly_update(*, assembly: Assembly, today: datetime.date, by=None, **fields) -> Assembly:
    """Title, place and agenda until the assembly opens; kind, convocation, date and cut-off only
    before it is convened (the voters were told) and before its list is frozen."""
    assembly = _locked(assembly)
    unknown = set(fields) - set(EDITABLE_ALWAYS) - set(EDITABLE_BEFORE_CONVENING)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in unknown})
    fields = {name: value for name, value in fields.items() if value != getattr(assembly, name)}
    if assembly.opened_at is not None and fields:
        raise RuleViolation("not_allowed", _("The assembly has opened: it can no longer be changed."))
    late = set(fields) & set(EDITABLE_BEFORE_CONVENING)
    if late and (assembly.convened_at is not None or assembly.frozen):
        raise RuleViolation("not_allowed", _("The assembly was convened: its kind, convocation, date and cut-off can no longer change."))
    if not fields:
        return assembly
    cleaned = _clean(fields, today=today, rules=selectors.current_rules(), instance=assembly)
    for name, value in cleaned.items():
        setattr(assembly, name, value)
    assembly.save()
    return assembly


@transaction.atomic
def assembly_convene(*, assembly: Assembly, today: datetime.date, now: datetime.datetime, by=None) -> int:
    """Convene the assembly: e-mail every voter (agenda, date, proxy link) through Celery, at the
    latest `notice_days` before it (409 `too_late`). Convening again e-mails only the voters who
    were not e-mailed yet. Returns how many voters are to be e-mailed."""
    assembly = _locked(assembly)
    if assembly.opened_at is not None:
        raise RuleViolation("not_allowed", _("The assembly has opened already."))
    rules = selectors.current_rules()
    starts_on = local_date(assembly.starts_at)
    if not r.may_convene(starts_on=starts_on, convocation=assembly.convocation, today=today, rules=rules):
        last = r.last_convening_day(starts_on, assembly.convocation, rules)
        raise RuleViolation("too_late", _(
            "Too late to convene: a %(which)s convocation must be sent at least %(days)s days before the assembly "
            "(at the latest on %(last)s)."
        ) % {"which": _("first") if assembly.convocation == 1 else _("second"),
             "days": r.notice_days(assembly.convocation, rules), "last": last.isoformat()})
    if assembly.convened_at is None:
        assembly.convened_at = now
        assembly.convened_by = by if by and by.pk else None
        assembly.save(update_fields=["convened_at", "convened_by"])
    to_mail = notifications.convening_pending(assembly).count()
    notifications.convened(assembly.pk)
    return to_mail


def _freeze(assembly: Assembly, *, today: datetime.date, now: datetime.datetime) -> int:
    """Freeze a locked assembly's voter list (its cut-off has come). Proxies whose giver or holder
    did not make the list are void. Returns the number of voters."""
    if assembly.frozen:
        return assembly.voters.count()
    if today < assembly.cutoff:
        raise RuleViolation("not_allowed", _("The voter list is frozen on the cut-off date (%(date)s).") % {
            "date": assembly.cutoff.isoformat()})
    rules = selectors.current_rules()
    member_ids = list(selectors.eligible_members(rules).values_list("pk", flat=True))
    Voter.objects.bulk_create([Voter(assembly=assembly, member_id=pk) for pk in member_ids], batch_size=1000)
    voting = set(member_ids)
    outside = [p.pk for p in Proxy.objects.filter(selectors.LIVE_PROXY, assembly=assembly)
               if p.giver_id not in voting or p.holder_id not in voting]
    Proxy.objects.filter(pk__in=outside).update(voided_at=now, void_reason=Proxy.Void.NOT_A_VOTER)
    assembly.voters_frozen_at = now
    assembly.save(update_fields=["voters_frozen_at"])
    if assembly.convened_at is not None:
        notifications.convened(assembly.pk)  # members who became voters since the convening
    return len(member_ids)


@transaction.atomic
def voters_freeze(*, assembly: Assembly, today: datetime.date, now: datetime.datetime) -> int:
    """Freeze the voter list from the members' stored membership and status (idempotent)."""
    return _freeze(_locked(assembly), today=today, now=now)


def assemblies_freeze_due(*, today: datetime.date, now: datetime.datetime) -> int:
    """The daily job: freeze every list whose cut-off has come (and e-mail the convening to the
    members who became voters since it was sent). Returns how many lists it froze."""
    frozen = 0
    due = Assembly.objects.filter(voters_frozen_at__isnull=True, closed_at__isnull=True, cutoff__lte=today)
    for assembly in due.order_by("cutoff", "pk"):
        with transaction.atomic():
            locked = _locked(assembly)
            if not locked.frozen:
                _freeze(locked, today=today, now=now)
                frozen += 1
    return frozen


def _freeze_if_due(assembly: Assembly, *, today: datetime.date, now: datetime.datetime) -> None:
    """Freezing at first need, when the daily job has not run since the cut-off."""
    if not assembly.frozen and today >= assembly.cutoff:
        _freeze(assembly, today=today, now=now)


def _frozen_now(assembly: Assembly, *, today: datetime.date, now: datetime.datetime) -> None:
    """What the door and the opening need: the frozen list (frozen now if the cut-off has come)."""
    _freeze_if_due(assembly, today=today, now=now)
    if not assembly.frozen:
        raise RuleViolation("not_allowed", _("The voter list is frozen on the cut-off date (%(date)s).") % {
            "date": assembly.cutoff.isoformat()})


def _must_vote(assembly: Assembly, member: Member, rules: r.Rules, who: str) -> None:
    if not selectors.is_voter(assembly, member, rules):
        raise RuleViolation("not_allowed", _("%(who)s is not a voter of this assembly.") % {"who": who})


@transaction.atomic
def proxy_give(
    *, assembly: Assembly, giver: Member, holder: Member, today: datetime.date, now: datetime.datetime, by=None,
) -> Proxy:
    """A voter gives their proxy to another voter, until the assembly opens. No chains (a giver
    carries none, a holder gave none: 409 `not_allowed`); a holder carries at most `max_proxies`
    (409 `proxy_limit`); one proxy per giver (revoke it to give another)."""
    assembly = _locked(assembly)
    if giver.pk == holder.pk:
        raise ValidationError({"holder": [_("A voter cannot give their proxy to themselves.")]})
    if assembly.opened_at is not None:
        raise RuleViolation("not_allowed", _("The assembly has opened: proxies can no longer be given."))
    if assembly.convened_at is None and not assembly.frozen:
        raise RuleViolation("not_allowed", _("Proxies can be given once the assembly is convened."))
    _freeze_if_due(assembly, today=today, now=now)
    rules = selectors.current_rules()
    _must_vote(assembly, giver, rules, giver.full_name)
    _must_vote(assembly, holder, rules, holder.full_name)
    live = Proxy.objects.filter(selectors.LIVE_PROXY, assembly=assembly)
    if live.filter(giver=giver).exists():
        raise RuleViolation("not_allowed", _("%(name)s has given their proxy already: revoke it first.") % {"name": giver.full_name})
    if live.filter(holder=giver).exists():
        raise RuleViolation("not_allowed", _("%(name)s carries proxies and cannot give theirs (no chains).") % {"name": giver.full_name})
    if live.filter(giver=holder).exists():
        raise RuleViolation("not_allowed", _("%(name)s has given their proxy and cannot carry one (no chains).") % {"name": holder.full_name})
    if live.filter(holder=holder).count() >= rules.max_proxies:
        raise RuleViolation("proxy_limit", _("%(name)s already carries %(n)s proxies, the most a voter may carry.") % {
            "name": holder.full_name, "n": rules.max_proxies})
    proxy = Proxy.objects.create(assembly=assembly, giver=giver, holder=holder, created_at=now,
                                 created_by=by if by and by.pk else None)
    notifications.proxy_changed(proxy.pk, "given")
    return proxy


@transaction.atomic
def proxy_revoke(*, assembly: Assembly, giver: Member, now: datetime.datetime, by=None) -> Proxy:
    """The giver (or coordinators) revokes a proxy until the assembly opens (later: 409 `not_allowed`)."""
    assembly = _locked(assembly)
    proxy = Proxy.objects.filter(selectors.LIVE_PROXY, assembly=assembly, giver=giver).first()
    if proxy is None:
        raise RuleViolation("not_allowed", _("%(name)s has not given a proxy for this assembly.") % {"name": giver.full_name})
    if assembly.opened_at is not None:
        raise RuleViolation("not_allowed", _("The assembly has opened: proxies can no longer be revoked."))
    proxy.revoked_at = now
    proxy.revoked_by = by if by and by.pk else None
    proxy.save(update_fields=["revoked_at", "revoked_by"])
    notifications.proxy_changed(proxy.pk, "revoked")
    return proxy


def _open(assembly: Assembly, *, now: datetime.datetime) -> None:
    if assembly.opened_at is None:
        assembly.opened_at = now
        assembly.save(update_fields=["opened_at"])


def _not_closed(assembly: Assembly) -> None:
    if assembly.closed_at is not None:
        raise RuleViolation("not_allowed", _("The assembly is closed."))


@transaction.atomic
def assembly_open(*, assembly: Assembly, today: datetime.date, now: datetime.datetime, by=None) -> Assembly:
    """The bureau opens the assembly (else its first sign-in does): proxies are then final."""
    assembly = _locked(assembly)
    _not_closed(assembly)
    _frozen_now(assembly, today=today, now=now)
    _open(assembly, now=now)
    return assembly


@dataclass(frozen=True)
class SignIn:
    voter: Voter
    signed_in_now: bool  # False: they were signed in already (nothing changed)
    proxy_taken_back: Proxy | None  # the proxy they had given, void now that they are here


@transaction.atomic
def voter_sign_in(
    *, assembly: Assembly, member: Member, today: datetime.date, now: datetime.datetime, by=None,
) -> SignIn:
    """Sign a voter in at the door (with the proxies they carry). The first sign-in opens the
    assembly; a giver who signs in takes their own vote back (their proxy becomes void).
    Signing in twice changes nothing. Not a voter: `Voter.DoesNotExist`."""
    assembly = _locked(assembly)
    _not_closed(assembly)
    _frozen_now(assembly, today=today, now=now)
    voter = Voter.objects.select_for_update().get(assembly=assembly, member=member)
    if voter.present_at is not None:
        return SignIn(voter, False, None)
    voter.present_at = now
    voter.signed_in_by = by if by and by.pk else None
    voter.save(update_fields=["present_at", "signed_in_by"])
    given = Proxy.objects.filter(selectors.LIVE_PROXY, assembly=assembly, giver=member).select_related("holder").first()
    if given is not None:
        given.voided_at, given.void_reason = now, Proxy.Void.SIGNED_IN
        given.save(update_fields=["voided_at", "void_reason"])
    _open(assembly, now=now)
    return SignIn(voter, True, given)


@transaction.atomic
def assembly_close(*, assembly: Assembly, now: datetime.datetime, by=None) -> Assembly:
    """The bureau closes the assembly once no vote is open: sign-ins and votes end, the minutes are final."""
    assembly = _locked(assembly)
    _not_closed(assembly)
    if assembly.opened_at is None:
        raise RuleViolation("not_allowed", _("The assembly has not opened."))
    if assembly.resolutions.filter(state=Resolution.State.OPEN).exists():
        raise RuleViolation("not_allowed", _("Close the vote in progress first."))
    assembly.closed_at = now
    assembly.save(update_fields=["closed_at"])
    return assembly


@transaction.atomic
def resolution_add(*, assembly: Assembly, text: str, majority: str | None = None, by=None) -> Resolution:
    """A resolution to vote on; its majority defaults from the assembly's kind."""
    assembly = _locked(assembly)
    _not_closed(assembly)
    errors: dict[str, list[str]] = {}
    text = _text(text, "text", max_length=10_000, errors=errors)
    if majority in (None, ""):
        majority = r.default_majority(assembly.kind)
    elif majority not in Resolution.Majority.values:
        errors["majority"] = [_("Choose simple or two_thirds.")]
    if errors:
        raise ValidationError(errors)
    position = (assembly.resolutions.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    return Resolution.objects.create(assembly=assembly, position=position, text=text, majority=majority)


def _count(value, name: str, errors: dict) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors[name] = [_("Enter a whole number, 0 or more.")]
        return 0
    return value


@transaction.atomic
def resolution_tally(
    *, resolution: Resolution, votes_for: int, votes_against: int, votes_abstain: int, now: datetime.datetime, by=None,
) -> Resolution:
    """The bureau enters the counts (a show of hands, paper ballots). Never more than the voters
    present + represented (400). A count may be corrected until the assembly closes; a vote from
    phones is not overwritten."""
    assembly = _locked(resolution.assembly)
    resolution = Resolution.objects.select_for_update().get(pk=resolution.pk)
    _not_closed(assembly)
    if assembly.opened_at is None:
        raise RuleViolation("not_allowed", _("The assembly has not opened: nobody is signed in yet."))
    if resolution.state == Resolution.State.OPEN or resolution.source == Resolution.Source.PHONES:
        raise RuleViolation("not_allowed", _("This resolution is voted from phones."))
    errors: dict[str, list[str]] = {}
    counts = [_count(value, name, errors) for value, name in (
        (votes_for, "for"), (votes_against, "against"), (votes_abstain, "abstain"))]
    if errors:
        raise ValidationError(errors)
    quorum = selectors.quorum_of(assembly)
    if sum(counts) > quorum.counted:
        raise ValidationError({"non_field_errors": [_(
            "%(total)s votes entered, but only %(n)s voters are present or represented."
        ) % {"total": sum(counts), "n": quorum.counted}]})
    resolution.votes_for, resolution.votes_against, resolution.votes_abstain = counts
    resolution.state = Resolution.State.CLOSED
    resolution.source = Resolution.Source.TALLY
    resolution.closed_at = now
    resolution.counted_by = by if by and by.pk else None
    resolution.save()
    return resolution


@transaction.atomic
def resolution_open(*, resolution: Resolution, now: datetime.datetime, by=None) -> Resolution:
    """Open the vote from phones on a resolution not voted yet; one vote open at a time."""
    assembly = _locked(resolution.assembly)
    resolution = Resolution.objects.select_for_update().get(pk=resolution.pk)
    _not_closed(assembly)
    if assembly.opened_at is None:
        raise RuleViolation("not_allowed", _("The assembly has not opened: nobody is signed in yet."))
    if resolution.state != Resolution.State.DRAFT:
        raise RuleViolation("not_allowed", _("This resolution has been voted already."))
    if assembly.resolutions.filter(state=Resolution.State.OPEN).exists():
        raise RuleViolation("not_allowed", _("Another vote is open: close it first."))
    resolution.state = Resolution.State.OPEN
    resolution.source = Resolution.Source.PHONES
    resolution.opened_at = now
    resolution.save(update_fields=["state", "source", "opened_at"])
    BallotBox.objects.create(resolution=resolution)
    return resolution


@transaction.atomic
def resolution_close(*, resolution: Resolution, now: datetime.datetime, by=None) -> Resolution:
    """Close the vote: the box's counts become the resolution's, and the box is sealed."""
    _locked(resolution.assembly)
    resolution = Resolution.objects.select_for_update().get(pk=resolution.pk)
    if resolution.state != Resolution.State.OPEN:
        raise RuleViolation("not_allowed", _("No vote is open on this resolution."))
    box = BallotBox.objects.select_for_update().get(resolution=resolution)
    resolution.votes_for, resolution.votes_against, resolution.votes_abstain = box.votes_for, box.votes_against, box.votes_abstain
    resolution.state = Resolution.State.CLOSED
    resolution.closed_at = now
    resolution.counted_by = by if by and by.pk else None
    resolution.save()
    # A write of the closing transaction's own: the box's row no longer carries a voter's transaction.
    BallotBox.objects.filter(pk=box.pk).update(sealed=True)
    return resolution


def _parse_ballots(ballots: Iterable) -> list[tuple[int, str]]:
    errors: list[str] = []
    parsed: list[tuple[int, str]] = []
    for index, ballot in enumerate(ballots):
        if not isinstance(ballot, dict):
            errors.append(_("Ballot %(n)s: expected {\"choice\", \"for_member\"}.") % {"n": index + 1})
            continue
        choice, member_id = ballot.get("choice"), ballot.get("for_member")
        if choice not in CHOICES:
            errors.append(_("Ballot %(n)s: the choice is for, against or abstain.") % {"n": index + 1})
        if isinstance(member_id, bool) or not isinstance(member_id, int):
            errors.append(_("Ballot %(n)s: for_member is a member id.") % {"n": index + 1})
        else:
            parsed.append((member_id, choice))
    if not parsed and not errors:
        errors.append(_("Cast at least one vote."))
    duplicates = [pk for pk, n in Counter(pk for pk, _c in parsed).items() if n > 1]
    if duplicates:
        errors.append(_("One vote per member: member %(id)s appears twice.") % {"id": duplicates[0]})
    if errors:
        raise ValidationError({"ballots": errors})
    return parsed


class NotYourVote(Exception):
    """The caster may not vote for this member (not present, or no proxy from them): a 403."""


@transaction.atomic
def votes_cast(*, resolution: Resolution, voter: Member, ballots: Iterable) -> list[int]:
    """A present voter casts their own vote and one per proxy they carry, once each, while the
    resolution is open. `ballots`: [{"choice": "for"|"against"|"abstain", "for_member": id}].

    The choices go into the resolution's ballot box as counts; the fact of voting goes, apart, to
    a voted mark per member. Nothing ties one to the other. A second vote for a member: 409
    `already_voted`, and nothing of the request is written. Returns the member ids voted for."""
    parsed = _parse_ballots(ballots)
    resolution = Resolution.objects.select_for_update().get(pk=resolution.pk)
    if resolution.state != Resolution.State.OPEN:
        raise RuleViolation("not_allowed", _("No vote is open on this resolution."))
    assembly = resolution.assembly
    if assembly.closed_at is not None:
        raise RuleViolation("not_allowed", _("The assembly is closed."))
    if not Voter.objects.filter(assembly=assembly, member=voter, present_at__isnull=False).exists():
        raise NotYourVote(_("Only voters signed in at the assembly can vote."))
    givers = set(Proxy.objects.filter(selectors.LIVE_PROXY, assembly=assembly, holder=voter).values_list("giver_id", flat=True))
    for member_id, _choice in parsed:
        if member_id != voter.pk and member_id not in givers:
            raise NotYourVote(_("You do not carry the proxy of member %(id)s.") % {"id": member_id})
    try:
        with transaction.atomic():
            VotedMark.objects.bulk_create([VotedMark(resolution=resolution, member_id=pk) for pk, _c in parsed])
    except IntegrityError:
        raise RuleViolation("already_voted", _("A vote was cast already for this member on this resolution.")) from None
    tally = Counter(choice for _pk, choice in parsed)
    BallotBox.objects.filter(resolution=resolution, sealed=False).update(
        votes_for=F("votes_for") + tally["for"], votes_against=F("votes_against") + tally["against"],
        votes_abstain=F("votes_abstain") + tally["abstain"],
    )
    return [pk for pk, _c in parsed]
