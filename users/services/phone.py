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
from django.db import IntegrityError, connection, transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext

from codes.services import code_refusals_counted
from common.db import (
    ASYNCHRONOUS_COMMIT_SQL,
    commit_waiting_for_disk,
    select_one,
    violated_constraint,
)
from common.network import ClientFacts
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
from users.services.tokens import TokenPair, tokens_issue, user_sign_in_network_record
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


# The hot path of a sign-in is three statements written by hand: as ORM queries they took
# more CPU to build and compile than to run (bench/README.md, "Phone sign-in"). One locks
# the phone's code row and reads its account beside it; on Postgres it also makes the
# transaction commit without waiting for the disk: a counted try, a used code or a refresh
# token lost in a database crash costs a user one more sign-in. Only a new account is
# something another system sees (the change queue), and it waits for the disk.
_CODE = PhoneCode._meta
_USER_FIELDS = User._meta.concrete_fields


def _code_and_account_sql(first: str, locking: str) -> str:
    columns = ", ".join(f'account."{field.column}"' for field in _USER_FIELDS)
    return (
        f"SELECT {first}, code.id, code.code_hash, code.attempts, code.expires_at, {columns} "  # noqa: S608
        f"FROM {_CODE.db_table} code LEFT JOIN {User._meta.db_table} account "
        f"ON account.phone = code.phone WHERE code.phone = %s{locking}"
    )


_CODE_AND_ACCOUNT_SQL = {
    "postgresql": _code_and_account_sql(ASYNCHRONOUS_COMMIT_SQL, " FOR UPDATE OF code"),
    # The transaction is exclusive already, and every commit waits for the disk.
    "sqlite": _code_and_account_sql("NULL", ""),
}
_CODE_AND_ACCOUNT_FIELDS = [None, None, None, None, _CODE.get_field("expires_at"), *_USER_FIELDS]
_USER_ATTNAMES = [field.attname for field in _USER_FIELDS]
# Used up: no digits match an empty hash, and the row still holds the resend interval (an
# expiry alone could lie ahead of a parallel request's `now`).
_CODE_USE_SQL = f"UPDATE {_CODE.db_table} SET code_hash = '', expires_at = %s WHERE id = %s"  # noqa: S608
_CODE_WRONG_TRY_SQL = f"UPDATE {_CODE.db_table} SET attempts = attempts + 1 WHERE id = %s"  # noqa: S608


def phone_sign_in(
    *,
    phone: str,
    code: str,
    now: datetime,
    referral_code: str | None = None,
    client: ClientFacts | None = None,
) -> PhoneSignIn:
    """Trade the live code of `phone` (any notation) for a token pair, once.

    The first sign-in of a phone creates its account (phone only, no password) through
    user_create, under the owner of `referral_code` when given; for an existing account
    `referral_code` is ignored. A wrong code counts a try; a right one is used up, unless
    the account cannot be created (a refused referral code), which leaves it as it was.
    Raises PhoneInvalidError; PhoneCodeInvalidError for a wrong, expired, used or dead
    code and for an inactive account; user_create's errors (`referral_code`: invalid,
    expired, used_up, too_deep, referral_refused), each refusal of the code counted
    (code_refusals_counted). `client` (who asked) is the sign-in's network, kept as the
    account's last (user_sign_in_network_record), and a referred sign-up's signals."""
    client = client or ClientFacts.unknown()
    phone = _phone_e164(phone)
    code_hash = phone_code_hash(phone=phone, code=code)
    signed_in: PhoneSignIn | None = None
    with code_refusals_counted(now=now), transaction.atomic():
        sql = _CODE_AND_ACCOUNT_SQL[connection.vendor]
        row = select_one(sql, [phone], _CODE_AND_ACCOUNT_FIELDS)
        if row is None:
            raise PhoneCodeInvalidError()
        code_id, stored_hash, attempts, expires_at = row[1:5]
        if expires_at <= now or attempts >= PHONE_CODE_MAX_ATTEMPTS:
            raise PhoneCodeInvalidError()
        account = (
            User.from_db(connection.alias, _USER_ATTNAMES, row[5:]) if row[5] is not None else None
        )
        with connection.cursor() as cursor:
            if not hmac.compare_digest(stored_hash, code_hash):
                # Committed before the refusal below: the try counts.
                cursor.execute(_CODE_WRONG_TRY_SQL, [code_id])
            else:
                used_at = connection.ops.adapt_datetimefield_value(now)
                cursor.execute(_CODE_USE_SQL, [used_at, code_id])
                signed_in = _phone_user_sign_in(
                    phone=phone,
                    account=account,
                    now=now,
                    referral_code=referral_code,
                    client=client,
                )
    if signed_in is None:
        raise PhoneCodeInvalidError()
    return signed_in


def _phone_user_sign_in(
    *,
    phone: str,
    account: User | None,
    now: datetime,
    referral_code: str | None,
    client: ClientFacts,
) -> PhoneSignIn | None:
    """Tokens for `account`, the account of `phone`, created when None; None for an
    inactive account (its code stays used)."""
    user, created = account, account is None
    if user is None:
        commit_waiting_for_disk()  # the change queue hands the account on
        try:
            user = user_create(
                email=None,
                password=None,
                phone=phone,
                now=now,
                referral_code=referral_code,
                client=client,
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
    user_sign_in_network_record(user=user, network=client.network)
    return PhoneSignIn(user=user, tokens=tokens_issue(user=user), created=created)
