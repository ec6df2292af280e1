"""API authentication (kept apart from api_support: DRF imports it while loading its settings)."""
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from . import roles


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, reading the user's role groups in the same query, so a till
    lookup pays one round trip for who is asking (see coopmarket.roles.group_names)."""

    def authenticate_credentials(self, key):
        memberships = Group.user_set.through.objects.filter(user_id=OuterRef("user_id"))
        flags = {f"_in_{name}": Exists(memberships.filter(group__name=name)) for name in roles.ROLE_GROUPS}
        token = Token.objects.select_related("user").annotate(**flags).filter(key=key).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token.user._coop_groups = frozenset(name for name in roles.ROLE_GROUPS if getattr(token, f"_in_{name}"))
        return token.user, token
