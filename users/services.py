from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from codes.services import code_issue, code_redeem, codes_invalidate_for_owner
from common import locks
from common.db import violated_constraint
from common.errors import DomainError
from common.mail import send_later
from referral.services import referral_position_under
from users.clients import HunterUnavailableError, hunter_email_status
from users.emails import LinkSite, PasswordResetEmail
from users.errors import (
    CurrentPasswordInvalidError,
    EmailUndeliverableError,
    FieldTakenError,
    PasswordResetTokenInvalidError,
    PhoneRequiredError,
    RefreshTokenInvalidError,
)
from users.models import User
from users.selectors import user_for_password_reset

logger = logging.getLogger(__name__)

UNDELIVERABLE_STATUSES = frozenset({"invalid", "disposable"})
PROFILE_FIELDS = ("username", "first_name", "last_name", "middle_name", "email", "phone")
# Unique constraints by the name Postgres reports (and SQLite's `table.column` form).
_UNIQUE_FIELDS = {
    "users_user_email_ci_unique": "email",
    "users_user_username_ci_unique": "username",
    "users_user_phone_unique": "phone",
    "users_user.phone": "phone",
}


def email_check_deliverable(*, email: str) -> None:
    """Refuse an address Hunter.io calls `invalid` or `disposable` (EmailUndeliverableError).

    Fails open: with no HUNTER_API_KEY, or when Hunter is down, slow or answers garbage,
    the address is accepted and the outcome logged. Verdicts are cached for a day.
    """
    if not settings.HUNTER_API_KEY:
        return
    key = "hunter:" + hashlib.sha256(email.lower().encode()).hexdigest()
    status = cache.get(key)
    if status is None:
        try:
            status = hunter_email_status(email)
        except HunterUnavailableError:
            logger.warning("Email deliverability check unavailable; accepting", exc_info=True)
            return
        cache.set(key, status, timeout=settings.HUNTER_CACHE_SECONDS)
    logger.info("Email deliverability checked", extra={"hunter_status": status})
    if status in UNDELIVERABLE_STATUSES:
        raise EmailUndeliverableError()


def _save_checking_unique(user: User, **save_kwargs: Any) -> None:
    """Save in a savepoint; a unique email/phone/username becomes FieldTakenError on it."""
    try:
        with transaction.atomic():
            user.save(**save_kwargs)
    except IntegrityError as exc:
        field = violated_constraint(exc, _UNIQUE_FIELDS)
        if field is None:
            raise
        raise FieldTakenError(attr=field) from exc


@transaction.atomic
def user_create(
    *,
    email: str | None,
    password: str | None,
    now: datetime,
    referral_code: str | None = None,
    username: str | None = None,
    phone: str | None = None,
    **fields: Any,
) -> User:
    """Create an account, under the owner of `referral_code` when given, with its first
    referral code (REFERRAL_CODE_ON_SIGNUP). Raises FieldTakenError, and the code errors
    (invalid, expired, used_up) on `referral_code`."""
    user = User(
        email=BaseUserManager.normalize_email(email) or None,
        username=username or None,
        phone=phone or None,
        date_joined=now,
        **fields,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    if referral_code:
        try:
            code = code_redeem(value=referral_code, now=now)
            user.tree_path, user.tree_depth = referral_position_under(referrer=code.owner)
        except DomainError as exc:
            raise exc.for_field("referral_code") from exc
        user.referred_by = code.owner
        user.referred_with_code = code
        user.referred_at = now
    _save_checking_unique(user)
    if settings.REFERRAL_CODE_ON_SIGNUP:
        code_issue(owner=user, now=now)
    return user


def user_register(*, email: str, password: str, now: datetime, **fields: Any) -> User:
    """Sign-up by email: the deliverability check, then user_create. The check runs before
    the transaction opens, so a slow checker never holds database locks."""
    email_check_deliverable(email=email)
    return user_create(email=email, password=password, now=now, **fields)


def user_update(*, user: User, changes: dict[str, Any]) -> User:
    """Change profile fields (PROFILE_FIELDS only; others are ignored). A new email is
    checked like at sign-up; an empty username or phone clears it, but an account
    without an email keeps its phone. Raises FieldTakenError, EmailUndeliverableError,
    PhoneRequiredError."""
    changes = {name: value for name, value in changes.items() if name in PROFILE_FIELDS}
    if "email" in changes:
        changes["email"] = BaseUserManager.normalize_email(changes["email"]) or None
        if (changes["email"] or "").lower() != (user.email or "").lower() and changes["email"]:
            email_check_deliverable(email=changes["email"])
    for name in ("username", "phone"):
        if name in changes:
            changes[name] = changes[name] or None
    if "phone" in changes and changes["phone"] is None and not changes.get("email", user.email):
        raise PhoneRequiredError()
    return _user_apply_changes(user=user, changes=changes)


@transaction.atomic
def _user_apply_changes(*, user: User, changes: dict[str, Any]) -> User:
    for name, value in changes.items():
        setattr(user, name, value)
    _save_checking_unique(user, update_fields=list(changes))
    if "username" in changes:
        codes_invalidate_for_owner(owner=user)  # the public lookup shows the username
    return user


def tokens_revoke_all(*, user: User) -> None:
    """Blacklist every outstanding refresh token of `user`."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


@transaction.atomic
def user_deactivate(*, user: User) -> None:
    """Soft-delete: no sign-in, codes refused, tokens dead at once; the user stays in the
    tree. Access tokens die because authentication checks `is_active` on every request."""
    # Exclusive against sign-ups redeeming this user's codes (codes.services.code_redeem).
    locks.advisory_lock(namespace=locks.CODE_OWNER, key=user.pk)
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    tokens_revoke_all(user=user)
    codes_invalidate_for_owner(owner=user)


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


def password_reset_email_send(*, email: str, site: LinkSite) -> None:
    """Email a reset link to the active user with this email who has a password, and to
    nobody else; at most once per PASSWORD_RESET_EMAIL_INTERVAL per account. Nothing
    tells the caller which happened: the mail goes out after the response (common.mail),
    so neither the mail server's speed nor its failures show, only in the log."""
    user = user_for_password_reset(email=email)
    if user is None:
        return
    # Keyed by the account, so every spelling of the address shares one interval; `add`
    # is atomic, so of parallel requests one sends.
    interval_key = f"password-reset-sent:{user.uuid}"
    if not cache.add(interval_key, 1, timeout=settings.PASSWORD_RESET_EMAIL_INTERVAL):
        return
    message = PasswordResetEmail(None, {"user": user, **site.context()})
    send_later(
        lambda: message.send([user.email]),
        log_extra={"email_kind": "password_reset", "user_uuid": str(user.uuid)},
        on_failure=lambda: cache.delete(interval_key),  # nothing went out: a retry may send
    )


def token_blacklist(*, user: User, raw_refresh: str) -> None:
    """End one of `user`'s refresh tokens (logout). Raises RefreshTokenInvalidError for
    a token that is malformed, expired, already ended or another user's."""
    try:
        # simplejwt annotates its `token` argument as a Token, yet takes (and its own
        # serializers pass) the encoded string.
        token = RefreshToken(raw_refresh)  # type: ignore[arg-type]
    except TokenError as exc:
        raise RefreshTokenInvalidError() from exc
    if token.get(api_settings.USER_ID_CLAIM) != str(getattr(user, api_settings.USER_ID_FIELD)):
        raise RefreshTokenInvalidError()
    token.blacklist()
