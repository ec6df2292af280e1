"""API authentication (kept apart from api_support: DRF imports it while loading its settings)."""
import binascii
from hmac import compare_digest

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from . import roles


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <token>`: django-rest-knox's hashed, expiring tokens, looked up in one
    query that also reads the user and their role groups (coopmarket.roles.group_names), so a till
    lookup pays one round trip for who is asking. Expired tokens are refused (and purged when the
    user next gets a token); knox's per-request clean-up query is not run."""

    def authenticate_credentials(self, token):
        invalid = exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            token = token.decode("utf-8")
            digest = hash_token(token)
        except (UnicodeDecodeError, TypeError, ValueError, binascii.Error):
            raise invalid from None
        memberships = Group.user_set.through.objects.filter(user_id=OuterRef("user_id"))
        flags = {f"_in_{name}": Exists(memberships.filter(group__name=name)) for name in roles.ROLE_GROUPS}
        candidates = (
            AuthToken.objects.select_related("user").annotate(**flags)
            .filter(token_key=token[:CONSTANTS.TOKEN_KEY_LENGTH])
            .filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))
        )
        for auth_token in candidates:
            if compare_digest(digest, auth_token.digest):
                user = auth_token.user
                if not user.is_active:
                    raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
                user._coop_groups = frozenset(name for name in roles.ROLE_GROUPS if getattr(auth_token, f"_in_{name}"))
                return user, auth_token
        raise invalid
