from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    from django.contrib.auth.models import Group, Permission

    from coopmarket.roles import sync_group_permissions

    sync_group_permissions(Group, Permission)


class MembersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "members"
    verbose_name = _("Members")

    def ready(self):
        # Every app's post_migrate: the permissions of apps migrated after members exist by then.
        post_migrate.connect(_sync_roles, dispatch_uid="members.sync_roles")
        _register_privacy()


def _register_privacy() -> None:
    """The members app's sections of the data export (the other apps add theirs)."""
    from . import privacy, selectors

    privacy.register_export_section("member", selectors.export_member)
    privacy.register_export_section("login", selectors.export_login)
    privacy.register_export_section("subscriptions", selectors.export_subscriptions)
    privacy.register_export_section("stripe_checkouts", selectors.export_stripe_checkouts)
    privacy.register_export_section("associates", selectors.export_associates)
    privacy.register_export_section("membership_history", selectors.export_state_history)
    privacy.register_export_section("office_history", selectors.export_office_history)
