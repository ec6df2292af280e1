"""API tokens (CONTRACT.md §5, DOMAIN.md §8), on django-rest-knox: the database keeps a SHA-512
digest only, each token has an expiry, one token is revoked by deleting its row, and a password
change deletes every token of the user (coopmarket.apps connects `password_changed_kill_tokens`).
"""
from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone
from knox.models import AuthToken


def token_issue(*, user, lifetime: datetime.timedelta) -> tuple[AuthToken, str]:
    """A new token for `user`, valid for `lifetime`; returns the row and the token string (shown
    once: only its digest is stored). The user's expired tokens are purged on the way."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user, expiry=lifetime)


def token_revoke(*, token: AuthToken) -> None:
    token.delete()


def tokens_revoke_all(*, user) -> int:
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


def live_tokens():
    return AuthToken.objects.filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))


def password_changed_kill_tokens(sender, instance, raw=False, **kwargs) -> None:
    """pre_save on the user model: when the stored password hash changes (set_password, the
    password change and reset pages, the admin), every API token of the user dies."""
    if raw or instance.pk is None:
        return
    stored = type(instance)._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        tokens_revoke_all(user=instance)


def login_forget(*, user, usernames: tuple[str, ...] = ()) -> None:
    """What the site logged about a login, erased (a member's anonymisation, DOMAIN.md §8): its
    API tokens and the sign-in records django-axes keeps under its username (and any former
    username given). The login itself is kept (deactivated by the caller) for the ledger's
    authors."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    tokens_revoke_all(user=user)
    names = {name for name in (user.get_username(), user.email, *usernames) if name}
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username__in=names).delete()
