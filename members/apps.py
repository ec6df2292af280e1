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
