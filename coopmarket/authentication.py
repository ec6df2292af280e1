"""API authentication (kept apart from api_support: DRF imports it while loading its settings)."""
import binascii
import functools
from hmac import compare_digest

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from . import roles


def _attnames(model) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


@functools.cache
def _statement(columns: str, join: str) -> str:
    """The live tokens with a key, each with its user and one flag per role group, plus what a
    subclass joins (`columns`, `join`). Written once: building it with the ORM cost about a third of
    every API request's time."""
    q = connection.ops.quote_name
    user_model = get_user_model()
    memberships = Group.user_set.through
    token_cols = ", ".join(f"t.{q(AuthToken._meta.get_field(n).column)}" for n in _attnames(AuthToken))
    user_cols = ", ".join(f"u.{q(user_model._meta.get_field(n).column)}" for n in _attnames(user_model))
    flag = (
        f"EXISTS(SELECT 1 FROM {q(memberships._meta.db_table)} ug JOIN {q(Group._meta.db_table)} g "
        f"ON g.{q('id')} = ug.{q('group_id')} WHERE ug.{q('user_id')} = t.{q('user_id')} AND g.{q('name')} = %s)"
    )
    flags = ", ".join(flag for _name in roles.ROLE_GROUPS)
    return (
        f"SELECT {token_cols}, {user_cols}, {flags}{columns} "
        f"FROM {q(AuthToken._meta.db_table)} t JOIN {q(user_model._meta.db_table)} u ON u.{q('id')} = t.{q('user_id')} "
        f"{join} WHERE t.{q('token_key')} = %s AND (t.{q('expiry')} IS NULL OR t.{q('expiry')} > %s)"
    )


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <token>`: django-rest-knox's hashed, expiring tokens, looked up in one
    prepared statement that also reads the user and their role groups (coopmarket.roles.group_names),
    so a request pays one round trip for who is asking, and the till's lookup can read its member
    in that same statement (`joined`). Expired tokens are refused (and purged when the user next
    gets a token); knox's per-request clean-up query is not run."""

    def joined(self) -> tuple[str, str, list]:
        """Extra select columns (starting with ", "), a join and the join's parameters read in the
        token's statement; `take_joined` gets their values on the matching token."""
        return "", "", []

    def take_joined(self, auth_token, values: tuple) -> None:
        """The values of `joined`'s columns for the token that matched."""

    def authenticate_credentials(self, token):
        invalid = exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            token = token.decode("utf-8")
            digest = hash_token(token)
        except (UnicodeDecodeError, TypeError, ValueError, binascii.Error):
            raise invalid from None
        columns, join, params = self.joined()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_statement(columns, join), [*roles.ROLE_GROUPS, *params, token[:CONSTANTS.TOKEN_KEY_LENGTH], now])
            rows = cursor.fetchall()
        token_names, user_model = _attnames(AuthToken), get_user_model()
        user_names = _attnames(user_model)
        split_user = len(token_names)
        split_flags = split_user + len(user_names)
        split_joined = split_flags + len(roles.ROLE_GROUPS)
        for row in rows:
            if not compare_digest(digest, row[token_names.index("digest")]):
                continue
            user = user_model.from_db(connection.alias, user_names, row[split_user:split_flags])
            if not user.is_active:
                raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
            auth_token = AuthToken.from_db(connection.alias, token_names, row[:split_user])
            auth_token.user = user
            user._coop_groups = frozenset(
                name for name, member in zip(roles.ROLE_GROUPS, row[split_flags:split_joined], strict=True) if member
            )
            self.take_joined(auth_token, row[split_joined:])
            return user, auth_token
        raise invalid
