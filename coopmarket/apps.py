from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoopmarketConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "coopmarket"
    verbose_name = _("Coopmarket")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from . import schema  # noqa: F401 (registers the OpenAPI extensions)
        from .tables import install_signature_cache
        from .tokens import password_changed_kill_tokens

        install_signature_cache()
        pre_save.connect(password_changed_kill_tokens, sender=get_user_model(), dispatch_uid="coopmarket.password_kills_tokens")
