"""Roles (CONTRACT.md §4): Django groups with these exact names, plus staff superusers."""
from django.contrib.auth.mixins import AccessMixin

COORDINATORS = "coordinators"
CASHIERS = "cashiers"
SUPPLY = "supply"
ROLE_GROUPS = (COORDINATORS, CASHIERS, SUPPLY)


def group_names(user) -> frozenset[str]:
    """The user's group names, read once per request object and cached on it."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_coop_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._coop_groups = cached
    return cached


def has_role(user, role: str) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or role in group_names(user)


def is_coordinator(user) -> bool:
    return has_role(user, COORDINATORS)


def is_cashier(user) -> bool:
    return has_role(user, CASHIERS)


def is_supply(user) -> bool:
    return has_role(user, SUPPLY)


def is_privileged_login(user) -> bool:
    """Staff, superusers and role-group accounts (coordinators, cashiers, supply).

    The members office never changes such a login (its e-mail, its username) and never links it
    to a member record (DOMAIN.md §8): a password reset sent to an address the office chose would
    hand the office the account."""
    if user is None or getattr(user, "pk", None) is None:
        return False
    return bool(user.is_staff or user.is_superuser or group_names(user) & set(ROLE_GROUPS))


class RoleRequiredMixin(AccessMixin):
    """Class-based view guard: anonymous users go to the login page, others get 403."""

    required_role: str = COORDINATORS

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.required_role):
            self.raise_exception = True
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)


class CoordinatorRequiredMixin(RoleRequiredMixin):
    required_role = COORDINATORS


# Model permissions each group holds, by app label and action (used by the admin).
GROUP_PERMISSIONS = {
    COORDINATORS: {
        "members": ("view", "add", "change"), "shifts": ("view", "add", "change", "delete"),
        "assemblies": ("view", "change"), "figures": ("view",),
    },
    CASHIERS: {},
    SUPPLY: {"inventory": ("view", "add", "change", "delete")},
}


def sync_group_permissions(Group, Permission) -> None:
    """Create the role groups and grant their model permissions; idempotent.

    Runs after every migrate, so models added by later migrations get their grants too.
    """
    for name, grants in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = [
            perm
            for app_label, actions in grants.items()
            for perm in Permission.objects.filter(content_type__app_label=app_label)
            if perm.codename.split("_", 1)[0] in actions
        ]
        group.permissions.add(*wanted)
