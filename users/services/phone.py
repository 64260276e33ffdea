"""Phone sign-in: a one-time code sent by SMS, traded once for a token pair.

A code lives in `users.PhoneCode`, one row per phone (a unique constraint), as an
HMAC-SHA256 of the phone and the digits keyed by the secret key: the table alone gives
no code away. Every check runs under the row's lock (`SELECT … FOR UPDATE`; on SQLite
every write transaction is exclusive), so of parallel requests with one right code
exactly one gets tokens, and parallel wrong guesses are each counted, at most
PHONE_CODE_MAX_ATTEMPTS of them.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext

from common.db import violated_constraint
from users.errors import (
    FieldTakenError,
    PhoneCodeInvalidError,
    PhoneCodeResendError,
    PhoneInvalidError,
    SmsUnavailableError,
)
from users.models import PhoneCode, User
from users.phones import InvalidPhoneError, phone_normalize
from users.services.accounts import user_create
from users.services.tokens import TokenPair, tokens_issue
from users.sms import SmsSendError, sms_send

# Wrong tries a code survives; the next one finds it dead, even with the right digits.
PHONE_CODE_MAX_ATTEMPTS = 5
# Rows of codes nobody can use or resend any more, deleted per code sent.
_PURGE_BATCH = 100


@dataclass(frozen=True)
class PhoneCodeSent:
    phone: str  # E.164
    expires_in: int  # seconds
    resend_after: int  # seconds


@dataclass(frozen=True)
class PhoneSignIn:
    user: User
    tokens: TokenPair
    created: bool


def _phone_e164(phone: str) -> str:
    try:
        return phone_normalize(phone)
    except InvalidPhoneError as exc:
        raise PhoneInvalidError() from exc


def phone_code_hash(*, phone: str, code: str) -> str:
    """HMAC-SHA256 of `phone` and `code`, keyed by (a key derived from) SECRET_KEY. The
    phone is in the message so that one code sent to two phones hashes differently."""
    return salted_hmac("users.phone_code", f"{phone}:{code}", algorithm="sha256").hexdigest()


def phone_code_generate() -> str:
    """PHONE_CODE_LENGTH random digits, from the operating system's CSPRNG."""
    return "".join(secrets.choice("0123456789") for _ in range(settings.PHONE_CODE_LENGTH))


def _sms_text(code: str) -> str:
    minutes = max(1, math.ceil(settings.PHONE_CODE_TTL / 60))
    return ngettext(
        "Your sign-in code: %(code)s. It expires in %(minutes)d minute.",
        "Your sign-in code: %(code)s. It expires in %(minutes)d minutes.",
        minutes,
    ) % {"code": code, "minutes": minutes}


@transaction.atomic
def phone_code_store(*, phone: str, code: str, now: datetime) -> None:
    """Make `code` the live code of `phone` (E.164) from `now`: PHONE_CODE_TTL seconds,
    no wrong tries yet, replacing the previous one. Raises PhoneCodeResendError while
    the previous one is younger than PHONE_CODE_RESEND seconds."""
    values = {
        "code_hash": phone_code_hash(phone=phone, code=code),
        "attempts": 0,
        "created_at": now,
        "expires_at": now + timedelta(seconds=settings.PHONE_CODE_TTL),
    }
    previous = PhoneCode.objects.select_for_update().filter(phone=phone).first()
    if previous is not None:
        wait = (
            previous.created_at + timedelta(seconds=settings.PHONE_CODE_RESEND) - now
        ).total_seconds()
        if wait > 0:
            raise PhoneCodeResendError(wait=wait)
        PhoneCode.objects.filter(pk=previous.pk).update(**values)
        return
    try:
        with transaction.atomic():
            PhoneCode.objects.create(phone=phone, **values)
    except IntegrityError as exc:
        # A parallel request for this phone inserted first, and has committed: the unique
        # index made this insert wait for it.
        if violated_constraint(exc, {"users_phonecode_phone_unique": "phone"}) is None:
            raise
        raise PhoneCodeResendError(wait=settings.PHONE_CODE_RESEND) from exc


def phone_code_send(*, phone: str, now: datetime) -> PhoneCodeSent:
    """Send a new random code to `phone` (any notation) by SMS, in the active language,
    and keep it (phone_code_store). The message goes out inside the transaction that
    stores the code, so a gateway that fails leaves no code behind. Raises
    PhoneInvalidError, PhoneCodeResendError, SmsUnavailableError."""
    phone = _phone_e164(phone)
    code = phone_code_generate()
    with transaction.atomic():
        phone_code_store(phone=phone, code=code, now=now)
        try:
            sms_send(to=phone, text=_sms_text(code))
        except SmsSendError as exc:
            # Logged with its causes, as every 5xx is (common.api.ExceptionHandler).
            raise SmsUnavailableError() from exc
    phone_codes_purge(now=now)
    return PhoneCodeSent(
        phone=phone,
        expires_in=settings.PHONE_CODE_TTL,
        resend_after=settings.PHONE_CODE_RESEND,
    )


@transaction.atomic
def phone_codes_purge(*, now: datetime) -> int:
    """Delete up to a batch of codes that are past both their lifetime and their resend
    interval (of phones that never came back); returns how many. Rows another
    transaction holds are left for the next time, so parallel purges never wait on each
    other."""
    cutoff = now - timedelta(seconds=max(settings.PHONE_CODE_TTL, settings.PHONE_CODE_RESEND))
    stale = (
        PhoneCode.objects.select_for_update(skip_locked=True)
        .filter(created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:_PURGE_BATCH]
    )
    deleted, _ = PhoneCode.objects.filter(pk__in=list(stale)).delete()
    return deleted


def phone_sign_in(
    *, phone: str, code: str, now: datetime, referral_code: str | None = None
) -> PhoneSignIn:
    """Trade the live code of `phone` (any notation) for a token pair, once.

    The first sign-in of a phone creates its account (phone only, no password) through
    user_create, under the owner of `referral_code` when given; for an existing account
    `referral_code` is ignored. A wrong code counts a try; a right one is used up, unless
    the account cannot be created (a refused referral code), which leaves it as it was.
    Raises PhoneInvalidError; PhoneCodeInvalidError for a wrong, expired, used or dead
    code and for an inactive account; user_create's errors (`referral_code`: invalid,
    expired, used_up, too_deep)."""
    phone = _phone_e164(phone)
    code_hash = phone_code_hash(phone=phone, code=code)
    signed_in: PhoneSignIn | None = None
    with transaction.atomic():
        stored = PhoneCode.objects.select_for_update().filter(phone=phone).first()
        if stored is None or stored.expires_at <= now or stored.attempts >= PHONE_CODE_MAX_ATTEMPTS:
            raise PhoneCodeInvalidError()
        if hmac.compare_digest(stored.code_hash, code_hash):
            # Used up: no digits match an empty hash, and the row still holds the resend
            # interval (an expiry alone could lie ahead of a parallel request's `now`).
            PhoneCode.objects.filter(pk=stored.pk).update(code_hash="", expires_at=now)
            signed_in = _phone_user_sign_in(phone=phone, now=now, referral_code=referral_code)
        else:
            # Committed before the refusal below: the try counts.
            PhoneCode.objects.filter(pk=stored.pk).update(attempts=F("attempts") + 1)
    if signed_in is None:
        raise PhoneCodeInvalidError()
    return signed_in


def _phone_user_sign_in(
    *, phone: str, now: datetime, referral_code: str | None
) -> PhoneSignIn | None:
    """Tokens for the account of `phone`, created if there is none; None for an
    inactive account (its code stays used)."""
    user = User.objects.filter(phone=phone).first()
    created = user is None
    if user is None:
        try:
            user = user_create(
                email=None, password=None, phone=phone, now=now, referral_code=referral_code
            )
        except FieldTakenError as exc:
            if exc.attr != "phone":
                raise
            # An account took this phone after the lookup above (a sign-up by email, or a
            # profile change) and committed while the insert waited on the unique index.
            user = User.objects.get(phone=phone)
            created = False
    if not user.is_active:
        return None
    return PhoneSignIn(user=user, tokens=tokens_issue(user=user), created=created)
