from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InterchangeConfig(AppConfig):
    """Import and export of a whole coop (CONTRACT.md §7), above `members` and `shifts`."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "interchange"
    verbose_name = _("Import and export")
