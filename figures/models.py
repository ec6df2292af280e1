"""Open figures (DOMAIN.md §11): one stored snapshot per day, computed by the daily job."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class FiguresSnapshot(models.Model):
    """The public aggregates as of a date (JSON, as `GET /api/v1/figures/` gives them)."""

    as_of = models.DateField(_("as of"), unique=True)
    data = models.JSONField()
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["-as_of"]
        verbose_name = _("open figures snapshot")
        verbose_name_plural = _("open figures snapshots")

    def __str__(self):
        return f"figures as of {self.as_of.isoformat()}"
