from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShiftsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shifts"
    verbose_name = _("Shifts")

    def ready(self):
        from members.signals import member_left, membership_changed, qualifications_changed

        from . import privacy, services

        membership_changed.connect(services.on_membership_changed, dispatch_uid="shifts.membership_changed")
        member_left.connect(services.on_member_left, dispatch_uid="shifts.member_left")
        qualifications_changed.connect(services.on_qualifications_changed, dispatch_uid="shifts.qualifications_changed")
        privacy.register()
