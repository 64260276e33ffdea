"""Passwords: changing one, and resetting a forgotten one by an emailed link."""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
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
    """Queue a reset email, in `language`, for the active user with this email who has a
    password; the worker sends it at most once per PASSWORD_RESET_EMAIL_INTERVAL per
    account, and to nobody else. Nothing tells the caller which happened: a task is
    queued for every request, known address or not (the worker skips the ones for
    nobody), so the request does the same work either way, and the mail server's speed
    and failures show only in the log; so does a refused insert."""
    user = user_for_password_reset(email=email)
    # Not an early return for an unknown address: that request would answer a commit's
    # fsync faster (measured: 12 ms against 21 ms on Postgres), which tells the addresses.
    user_uuid = str(user.uuid) if user is not None else ""
    try:
        email_enqueue(
            password_reset_email_deliver,
            user_uuid=user_uuid,
            language=language,
            now=now,
            protocol=site.protocol,
            domain=site.domain,
        )
    except EmailUnavailableError:
        logger.exception(
            "Email not queued", extra={"email_kind": PASSWORD_RESET_EMAIL, "user_uuid": user_uuid}
        )
