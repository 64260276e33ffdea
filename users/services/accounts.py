"""Accounts: sign-up, profile changes and deactivation (restoring and erasure, the
staff's part, are users.services.lifecycle).

Every door a user comes in through (the API, phone sign-in, the admin, factories) meets
the same rules here: how an email, username and phone are stored, that an account keeps
an email or a phone, and that a new email can receive mail.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from codes.services import (
    code_count_use,
    code_issue,
    code_redeem,
    code_refusals_counted,
    codes_invalidate_for_owner,
)
from common import locks
from common.db import violated_constraint
from common.errors import DomainError
from common.metrics import signup_count
from common.network import ClientFacts
from referral.models import ReferredSignup
from referral.services import (
    referral_node_add,
    referral_position_under,
    referral_signals_check,
    referral_signup_record,
)
from users.clients import HunterUnavailableError, hunter_email_status
from users.errors import (
    ContactRequiredError,
    EmailUndeliverableError,
    FieldTakenError,
    PhoneInvalidError,
    PhoneRequiredError,
    UserNotFoundError,
)
from users.models import SignupChannel, User
from users.phones import InvalidPhoneError, phone_normalize
from users.services.tokens import tokens_revoke_all

logger = logging.getLogger(__name__)

UNDELIVERABLE_STATUSES = frozenset({"invalid", "disposable"})
PROFILE_FIELDS = ("username", "first_name", "last_name", "middle_name", "email", "phone")
# Stored as NULL, never "": the unique constraints then allow any number of users without.
_OPTIONAL_UNIQUE_FIELDS = ("email", "username", "phone")
# Unique constraints by the name Postgres reports (and SQLite's `table.column` form).
_UNIQUE_FIELDS = {
    "users_user_email_ci_unique": "email",
    "users_user_username_ci_unique": "username",
    "users_user_phone_unique": "phone",
    "users_user.phone": "phone",
}
_ERASED = {"users_user_erased_is_blank": "erased"}


def email_check_deliverable(*, email: str) -> str | None:
    """Refuse an address Hunter.io calls `invalid` or `disposable` (EmailUndeliverableError);
    return Hunter's verdict on any other (`valid`, `webmail`, `accept_all`, …), None when
    no check was made.

    Fails open: with no HUNTER_API_KEY, or when Hunter is down, slow or answers garbage,
    the address is accepted and the outcome logged. Verdicts are cached for a day.
    """
    if not settings.HUNTER_API_KEY:
        return None
    key = "hunter:" + hashlib.sha256(email.lower().encode()).hexdigest()
    status = cache.get(key)
    if status is None:
        try:
            status = hunter_email_status(email)
        except HunterUnavailableError:
            logger.warning("Email deliverability check unavailable; accepting", exc_info=True)
            return None
        cache.set(key, status, timeout=settings.HUNTER_CACHE_SECONDS)
    logger.info("Email deliverability checked", extra={"hunter_status": status})
    if status in UNDELIVERABLE_STATUSES:
        raise EmailUndeliverableError()
    return str(status)


def user_fields_normalize(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` (PROFILE_FIELDS only; others are dropped) as they are stored: NULL for no
    email, username or phone, the email's domain lower-cased, the phone in E.164.
    Raises PhoneInvalidError."""
    normalized = {name: value for name, value in fields.items() if name in PROFILE_FIELDS}
    if "email" in normalized:
        normalized["email"] = BaseUserManager.normalize_email(normalized["email"])
    if normalized.get("phone"):
        try:
            normalized["phone"] = phone_normalize(normalized["phone"])
        except InvalidPhoneError as exc:
            raise PhoneInvalidError() from exc
    for name in _OPTIONAL_UNIQUE_FIELDS:
        if name in normalized:
            normalized[name] = normalized[name] or None
    return normalized


def user_contacts_check(*, user: User | None, fields: dict[str, Any]) -> None:
    """An account must keep an email or a phone to sign in with: raise PhoneRequiredError
    when `fields` clear the phone of `user`, who has no email, and ContactRequiredError
    for any other change (or new account, `user` None) that leaves neither."""
    email = fields["email"] if "email" in fields else getattr(user, "email", None)
    phone = fields["phone"] if "phone" in fields else getattr(user, "phone", None)
    if email or phone:
        return
    if user is not None and "phone" in fields and "email" not in fields:
        raise PhoneRequiredError()
    raise ContactRequiredError()


def user_fields_check_free(*, user: User | None, fields: dict[str, Any]) -> None:
    """Raise FieldTakenError (on that field) for a normalized email, username or phone of
    `fields` that another account has. For forms, which must name the field before they
    save; every save is still guarded by the unique constraints (user_create,
    user_update)."""
    others = User.objects.exclude(pk=user.pk) if user is not None else User.objects.all()
    for name in _OPTIONAL_UNIQUE_FIELDS:
        value = fields.get(name)
        if not value:
            continue
        if name == "phone":
            taken = others.filter(phone=value).exists()
        else:
            taken = others.alias(lower=Lower(name)).filter(lower=value.lower()).exists()
        if taken:
            raise FieldTakenError(attr=name)


def _save_checking_unique(user: User, **save_kwargs: Any) -> None:
    """Save in a savepoint; a unique email/phone/username becomes FieldTakenError on it."""
    try:
        with transaction.atomic():
            user.save(**save_kwargs)
    except IntegrityError as exc:
        if violated_constraint(exc, _ERASED) is not None:
            # Erased while this change was on its way: a tombstone takes no contacts.
            raise UserNotFoundError() from exc
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
    client: ClientFacts | None = None,
    email_verdict: str | None = None,
    **fields: Any,
) -> User:
    """Create an account (no password: an unusable one), under the owner of
    `referral_code` when given, with its first referral code (REFERRAL_CODE_ON_SIGNUP).
    A referred sign-up keeps its abuse signals (`client`, who made the request, and
    Hunter's `email_verdict`, where one was made: referral.services.referral_signup_record).
    Raises FieldTakenError, PhoneInvalidError, ContactRequiredError, and the code errors
    (invalid, expired, used_up, too_deep, referral_refused) on `referral_code`."""
    contacts = user_fields_normalize({"email": email, "username": username, "phone": phone})
    user_contacts_check(user=None, fields=contacts)
    channel = SignupChannel.EMAIL if contacts["email"] else SignupChannel.PHONE
    user = User(date_joined=now, signup_channel=channel, **contacts, **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    code = signals = referrer = None
    if referral_code:
        with _on_field("referral_code"):
            code = code_redeem(value=referral_code, now=now)
            signals = referral_signals_check(
                code=code,
                client=client or ClientFacts.unknown(),
                email_verdict=email_verdict,
                now=now,
            )
            referrer = referral_position_under(referrer=code.owner)
        user.referred_by = code.owner
        user.referred_with_code = code
        user.referred_at = now
    _save_checking_unique(user)
    if referrer is not None:
        referral_node_add(user=user, referrer=referrer)
    if settings.REFERRAL_CODE_ON_SIGNUP:
        code_issue(owner=user, now=now)
    if code is not None and signals is not None:
        door = ReferredSignup.Door.SIGNUP if contacts["email"] else ReferredSignup.Door.PHONE
        referral_signup_record(referee=user, code=code, signals=signals, door=door, now=now)
        with _on_field("referral_code"):
            code_count_use(code=code, now=now)  # last: see code_count_use
    transaction.on_commit(lambda: signup_count(with_referral_code=bool(referral_code)))
    return user


@contextmanager
def _on_field(attr: str) -> Iterator[None]:
    """Re-target the domain errors raised inside at the request field `attr`."""
    try:
        yield
    except DomainError as exc:
        raise exc.for_field(attr) from exc


def user_register(
    *, email: str, password: str, now: datetime, client: ClientFacts | None = None, **fields: Any
) -> User:
    """Sign-up by email: the deliverability check, then user_create with its verdict. The
    check runs before the transaction opens, so a slow checker never holds database
    locks. A refused invite code is counted (code_refusals_counted)."""
    verdict = email_check_deliverable(email=email)
    with code_refusals_counted(now=now):
        return user_create(
            email=email,
            password=password,
            now=now,
            client=client,
            email_verdict=verdict,
            **fields,
        )


def user_changes_check(*, user: User | None, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` to the profile of `user` (None: a new account), normalized
    (user_fields_normalize) and checked by the rules of a profile change: a new email
    must be deliverable, and an email or a phone must remain. Raises
    EmailUndeliverableError, PhoneInvalidError, PhoneRequiredError, ContactRequiredError."""
    changes = user_fields_normalize(changes)
    new_email = changes.get("email")
    if new_email and new_email.lower() != (getattr(user, "email", None) or "").lower():
        email_check_deliverable(email=new_email)
    user_contacts_check(user=user, fields=changes)
    return changes


def user_update(*, user: User, changes: dict[str, Any]) -> User:
    """Change profile fields (PROFILE_FIELDS only; others are ignored) by the rules of
    user_changes_check; an empty username or phone clears it. Raises its errors and
    FieldTakenError."""
    return _user_apply_changes(user=user, changes=user_changes_check(user=user, changes=changes))


@transaction.atomic
def _user_apply_changes(*, user: User, changes: dict[str, Any]) -> User:
    for name, value in changes.items():
        setattr(user, name, value)
    _save_checking_unique(user, update_fields=list(changes))
    if "username" in changes:
        codes_invalidate_for_owner(owner=user)  # the public lookup shows the username
    return user


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
