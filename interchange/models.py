"""Uploads waiting for their confirmation on the office page (CONTRACT.md §7)."""
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    return secrets.token_urlsafe(32)


class ImportUpload(models.Model):
    """The files a coordinator uploaded and checked (dry run), kept server-side under a random
    token until they confirm: the import reads exactly these bytes, never a second upload.

    The content is dropped once imported or abandoned; the row stays as a log of imports."""

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    filename = models.CharField(_("file"), max_length=255)
    content = models.BinaryField(_("content"), blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    checked_on = models.DateField(_("checked as of"))
    report = models.JSONField(_("report"), default=dict)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    imported_report = models.JSONField(_("import report"), null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("coop import")
        verbose_name_plural = _("coop imports")

    def __str__(self):
        return f"{self.filename} ({self.uploaded_at:%Y-%m-%d %H:%M})"
