"""The till's check log: every lookup and every override (DOMAIN.md §6)."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Associate, ImmutableQuerySet, Member


class TillCheck(models.Model):
    class Kind(models.TextChoices):
        CHECK = "check", _("Check")
        OVERRIDE = "override", _("Override")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.CHECK)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("cashier"))
    code = models.CharField(_("code scanned"), max_length=64)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="till_checks")
    associate = models.ForeignKey(Associate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    can_shop = models.BooleanField(_("may shop"), null=True)
    status = models.CharField(_("status"), max_length=16, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    offline = models.BooleanField(_("answered offline"), default=False)
    class Source(models.TextChoices):
        SCAN = "scan", _("Card scanned or number typed")
        SEARCH = "search", _("Opened from the name search")

    source = models.CharField(_("found by"), max_length=8, choices=Source.choices, default=Source.SCAN)
    # An answer given offline, sent later by the till: its id on the device makes a resend harmless.
    client_id = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    reason = models.TextField(_("override reason"), blank=True)
    checked_at = models.DateTimeField(_("checked at"), db_index=True)

    objects = ImmutableQuerySet.as_manager()
    # The check log is append-only; anonymising a member blanks only the override's free text.
    anonymisable_fields = ("reason",)

    class Meta:
        ordering = ["-checked_at", "-id"]
        verbose_name = _("till check")
        verbose_name_plural = _("till checks")

    def __str__(self):
        return f"{self.checked_at:%Y-%m-%d %H:%M} {self.code} {self.can_shop}"


class CardListVersion(models.Model):
    """One content of the offline card list, as a till downloaded it (checkout/cardlist.py): its
    ETag, when that content was first served, and a digest of each card, so that a till that holds
    this version gets only what changed since (`?since=`). Old versions are pruned."""

    etag = models.CharField(max_length=64, unique=True)
    generated_at = models.DateTimeField(db_index=True)
    card_count = models.PositiveIntegerField(default=0)
    digests = models.BinaryField()  # zlib-compressed JSON {card barcode: CRC-32 of the card as served}

    class Meta:
        ordering = ["-generated_at"]

    def __str__(self):
        return f"{self.generated_at:%Y-%m-%d %H:%M:%S} {self.etag}"
