"""General assemblies (DOMAIN.md §10): assemblies, their frozen voter lists, proxies, sign-in,
resolutions and the secret ballot.

The secret ballot is two tables that share nothing but the resolution:
- `BallotBox`: one row per resolution voted from phones, holding only the counts (for, against,
  abstain). No voter, no time, no row per ballot: each cast adds to the counts, and closing the
  vote seals the box (a last write of its own), so the row's transaction id is then the closing
  one, not a voter's.
- `VotedMark`: who has voted on a resolution (their own vote or a proxy's), with a random UUID
  key and no time, so the marks' keys do not tell the order of voting either.
Nothing links a mark to a count: see docs/decisions.md and tests/test_secret_ballot.py.
"""
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from members.models import Member

from . import rules

FRACTION = {"max_digits": 5, "decimal_places": 4, "validators": [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]}


class AssemblyParameters(models.Model):
    """The numbers of DOMAIN.md §10 in one admin-editable row (like `members.CoopParameters`)."""

    cutoff_days = models.PositiveSmallIntegerField(_("cut-off: days before the assembly"), default=15)
    notice_days_first = models.PositiveSmallIntegerField(_("convening notice, first convocation (days)"), default=15)
    notice_days_second = models.PositiveSmallIntegerField(_("convening notice, second convocation (days)"), default=10)
    max_proxies = models.PositiveSmallIntegerField(_("proxies one voter may carry"), default=2)
    quorum_ordinary_first = models.DecimalField(_("quorum, ordinary, first convocation"), default=Decimal("0.20"), **FRACTION)
    quorum_ordinary_second = models.DecimalField(_("quorum, ordinary, second convocation"), default=Decimal("0"), **FRACTION)
    quorum_extraordinary_first = models.DecimalField(_("quorum, extraordinary, first convocation"), default=Decimal("0.25"), **FRACTION)
    quorum_extraordinary_second = models.DecimalField(_("quorum, extraordinary, second convocation"), default=Decimal("0.20"), **FRACTION)
    vote_requires_good_standing = models.BooleanField(
        _("vote requires good standing"), default=False,
        help_text=_("Members suspended, unsubscribed or blocked on the cut-off date do not vote."),
    )

    class Meta:
        verbose_name = _("assembly parameters")
        verbose_name_plural = _("assembly parameters")

    def __str__(self):
        return str(_("Assembly parameters"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "AssemblyParameters":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    def rules(self) -> rules.Rules:
        return rules.Rules(
            cutoff_days=self.cutoff_days, notice_days_first=self.notice_days_first,
            notice_days_second=self.notice_days_second, max_proxies=self.max_proxies,
            quorum_ordinary_first=self.quorum_ordinary_first, quorum_ordinary_second=self.quorum_ordinary_second,
            quorum_extraordinary_first=self.quorum_extraordinary_first,
            quorum_extraordinary_second=self.quorum_extraordinary_second,
            vote_requires_good_standing=self.vote_requires_good_standing,
        )


class Assembly(models.Model):
    class Kind(models.TextChoices):
        ORDINARY = rules.ORDINARY, _("Ordinary")
        EXTRAORDINARY = rules.EXTRAORDINARY, _("Extraordinary")

    class Convocation(models.IntegerChoices):
        FIRST = 1, _("First convocation")
        SECOND = 2, _("Second convocation")

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ORDINARY)
    convocation = models.PositiveSmallIntegerField(_("convocation"), choices=Convocation.choices, default=Convocation.FIRST)
    starts_at = models.DateTimeField(_("date and time"))
    place = models.CharField(_("place"), max_length=255)
    agenda = models.TextField(_("agenda"), max_length=20_000)
    cutoff = models.DateField(_("cut-off date"), help_text=_("The voter list is frozen on this date."))
    convened_at = models.DateTimeField(_("convened at"), null=True, blank=True)
    convened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    voters_frozen_at = models.DateTimeField(_("voter list frozen at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("general assembly")
        verbose_name_plural = _("general assemblies")
        constraints = [
            models.CheckConstraint(condition=Q(convocation__in=(1, 2)), name="assembly_convocation_1_or_2"),
            models.CheckConstraint(condition=Q(closed_at__isnull=True) | Q(opened_at__isnull=False), name="assembly_closed_after_open"),
        ]

    def __str__(self):
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("assemblies:detail", args=[self.pk])

    @property
    def frozen(self) -> bool:
        return self.voters_frozen_at is not None

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.closed_at is None


class Voter(models.Model):
    """A member on an assembly's voter list, frozen at the cut-off date, and their sign-in."""

    assembly = models.ForeignKey(Assembly, on_delete=models.PROTECT, related_name="voters")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="assembly_voters")
    present_at = models.DateTimeField(_("signed in at"), null=True, blank=True)
    signed_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["member__last_name", "member__first_name", "id"]
        verbose_name = _("voter")
        verbose_name_plural = _("voters")
        constraints = [models.UniqueConstraint(fields=["assembly", "member"], name="one_voter_row_per_member")]
        indexes = [models.Index(fields=["assembly", "present_at"])]

    def __str__(self):
        return f"{self.member} @ {self.assembly_id}"


class Proxy(models.Model):
    """A voter's proxy to another voter. Revoked by the giver until the assembly opens; void when
    the giver signs in (they take their vote back) or is not a voter at the cut-off."""

    class Void(models.TextChoices):
        SIGNED_IN = "signed_in", _("The giver signed in")
        NOT_A_VOTER = "not_a_voter", _("Not a voter at the cut-off")

    assembly = models.ForeignKey(Assembly, on_delete=models.PROTECT, related_name="proxies")
    giver = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="proxies_given")
    holder = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="proxies_held")
    created_at = models.DateTimeField(_("given at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    voided_at = models.DateTimeField(_("void since"), null=True, blank=True)
    void_reason = models.CharField(_("void because"), max_length=16, choices=Void.choices, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("proxy")
        verbose_name_plural = _("proxies")
        constraints = [
            models.CheckConstraint(condition=~Q(giver=models.F("holder")), name="proxy_not_to_oneself"),
            models.UniqueConstraint(
                fields=["assembly", "giver"], condition=Q(revoked_at__isnull=True, voided_at__isnull=True),
                name="one_live_proxy_per_giver",
            ),
        ]

    def __str__(self):
        return f"{self.giver_id} -> {self.holder_id} @ {self.assembly_id}"

    @property
    def live(self) -> bool:
        return self.revoked_at is None and self.voided_at is None


class Resolution(models.Model):
    class Majority(models.TextChoices):
        SIMPLE = rules.SIMPLE, _("Simple majority")
        TWO_THIRDS = rules.TWO_THIRDS, _("Two-thirds majority")

    class State(models.TextChoices):
        DRAFT = "draft", _("Not voted yet")
        OPEN = "open", _("Vote open")
        CLOSED = "closed", _("Voted")

    class Source(models.TextChoices):
        TALLY = "tally", _("Counted by the bureau")
        PHONES = "phones", _("Cast from phones")

    assembly = models.ForeignKey(Assembly, on_delete=models.PROTECT, related_name="resolutions")
    position = models.PositiveSmallIntegerField(_("number"))
    text = models.TextField(_("resolution"), max_length=10_000)
    majority = models.CharField(_("majority"), max_length=12, choices=Majority.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.DRAFT)
    source = models.CharField(_("votes"), max_length=8, choices=Source.choices, blank=True)
    votes_for = models.PositiveIntegerField(_("for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    opened_at = models.DateTimeField(_("vote opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("vote closed at"), null=True, blank=True)
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["assembly", "position"]
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        constraints = [
            models.UniqueConstraint(fields=["assembly", "position"], name="one_resolution_per_number"),
            models.UniqueConstraint(fields=["assembly"], condition=Q(state="open"), name="one_open_vote_per_assembly"),
            models.CheckConstraint(
                condition=Q(state="closed", votes_for__isnull=False, votes_against__isnull=False, votes_abstain__isnull=False)
                | ~Q(state="closed"),
                name="closed_resolution_has_counts",
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.text[:60]}"

    @property
    def adopted(self) -> bool | None:
        if self.state != self.State.CLOSED:
            return None
        return rules.adopted(self.majority, votes_for=self.votes_for, votes_against=self.votes_against)


class BallotBox(models.Model):
    """The secret ballot of one resolution voted from phones: counts only (see the module doc)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resolution = models.OneToOneField(Resolution, on_delete=models.PROTECT, related_name="ballot_box")
    votes_for = models.PositiveIntegerField(default=0)
    votes_against = models.PositiveIntegerField(default=0)
    votes_abstain = models.PositiveIntegerField(default=0)
    sealed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("ballot box")
        verbose_name_plural = _("ballot boxes")

    def __str__(self):
        return f"ballot box of {self.resolution_id}"


class VotedMark(models.Model):
    """The fact that a member's vote (their own or carried by proxy) was cast on a resolution:
    no choice, no time, a random key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resolution = models.ForeignKey(Resolution, on_delete=models.PROTECT, related_name="voted_marks")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="assembly_votes")

    class Meta:
        verbose_name = _("voted mark")
        verbose_name_plural = _("voted marks")
        constraints = [models.UniqueConstraint(fields=["resolution", "member"], name="one_vote_per_member_and_resolution")]

    def __str__(self):
        return f"{self.member_id} voted on {self.resolution_id}"


class AssemblyMail(models.Model):
    """Each e-mail about an assembly, logged once (unique): a re-run or a retried task sends nothing
    twice. No address is stored (the member's row has it), so anonymising the member is enough."""

    class Kind(models.TextChoices):
        CONVENING = "convening", _("Convening")
        PROXY_GIVEN = "proxy_given", _("Proxy received")
        PROXY_REVOKED = "proxy_revoked", _("Proxy revoked")

    assembly = models.ForeignKey(Assembly, on_delete=models.PROTECT, related_name="mails")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="assembly_mails")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name = _("assembly e-mail")
        verbose_name_plural = _("assembly e-mails")
        constraints = [models.UniqueConstraint(fields=["assembly", "member", "kind", "key"], name="one_assembly_mail")]

    def __str__(self):
        return f"{self.kind} {self.member_id} @ {self.assembly_id}"
