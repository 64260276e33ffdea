"""Passwords: changing one, and resetting a forgotten one by an emailed link."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import transaction

from common.emails import email_enqueue
from common.errors import EmailUnavailableError
from users.emails import PASSWORD_RESET_EMAIL, LinkSite
from users.errors import CurrentPasswordInvalidError, PasswordResetTokenInvalidError
from users.models import User
from users.selectors import user_for_password_reset
from users.tasks import password_reset_email_deliver

logger = logging.getLogger(__name__)


def user_set_password(*, user: User, current_password: str, password: str) -> None:
    """Change `user`'s password, given the current one (CurrentPasswordInvalidError
    otherwise). Every token issued before stops working: each carries a hash of the
    password (simplejwt's CHECK_REVOKE_TOKEN). Only the password column is written, so
    what another request changed meanwhile (the tree, deactivation) stays."""
    if not user.check_password(current_password):
        raise CurrentPasswordInvalidError()
    user.set_password(password)
    user.save(update_fields=["password"])


def user_reset_password(*, user: User, token: str, password: str) -> None:
    """Set a new password through a reset link's token; PasswordResetTokenInvalidError for
    a wrong, used or stale one. The token is bound to the password, so it works once: it
    is checked again under the user's row lock, and of two requests with one token only
    the first gets through."""
    if not default_token_generator.check_token(user, token):
        raise PasswordResetTokenInvalidError()  # before hashing: bogus tokens cost nothing
    hashed = make_password(password)  # Argon2 takes a while: not under the lock
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not default_token_generator.check_token(locked, token):
            raise PasswordResetTokenInvalidError()
        locked.password = hashed
        locked.save(update_fields=["password"])


@transaction.atomic
def password_reset_email_send(*, email: str, site: LinkSite, language: str, now: datetime) -> None:
    """Queue a reset email, in `language`, to the active user with this email who has a
    password, and to nobody else; at most once per PASSWORD_RESET_EMAIL_INTERVAL per
    account. Nothing tells the caller which happened: queueing is one quick insert, the
    worker sends (common.emails), so neither the mail server's speed nor its failures
    show, only in the log; if even the insert is refused, that too is only logged."""
    user = user_for_password_reset(email=email)
    if user is None:
        return
    # Keyed by the account, so every spelling of the address shares one interval; `add`
    # is atomic, so of parallel requests one queues.
    interval_key = f"password-reset-sent:{user.uuid}"
    if not cache.add(interval_key, 1, timeout=settings.PASSWORD_RESET_EMAIL_INTERVAL):
        return
    try:
        email_enqueue(
            password_reset_email_deliver,
            user_uuid=str(user.uuid),
            language=language,
            now=now,
            protocol=site.protocol,
            domain=site.domain,
        )
    except EmailUnavailableError:
        logger.exception(
            "Email not queued",
            extra={"email_kind": PASSWORD_RESET_EMAIL, "user_uuid": str(user.uuid)},
        )
        cache.delete(interval_key)  # nothing is queued: a retry may queue
