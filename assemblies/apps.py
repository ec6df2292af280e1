from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssembliesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "assemblies"
    verbose_name = _("General assemblies")

    def ready(self):
        from . import privacy

        privacy.register()  # the member's data export: attendance, proxies, votes, e-mails
