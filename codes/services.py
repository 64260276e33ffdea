from __future__ import annotations

import enum
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from codes.cache import public_codes_invalidate_on_commit
from codes.errors import (
    CodeEmailNoAddressError,
    CodeExpiresInPastError,
    CodeInvalidError,
    CodeMaxUsesBelowUsesError,
    CodeNotFoundError,
    CodeTakenError,
    CodeUsedUpError,
)
from codes.models import GENERATED_ALPHABET, ReferralClick, ReferralCode, RefusalDay
from codes.selectors import (
    code_check_redeemable,
    code_get_active_for_owner,
    code_landing_url,
    code_normalize,
    code_public_get,
)
from codes.tasks import code_email_deliver
from common import locks
from common.db import violated_constraint
from common.emails import email_enqueue
from common.errors import DomainError

if TYPE_CHECKING:
    from users.models import User

_GENERATE_ATTEMPTS = 10


class _Unset(enum.Enum):
    """Not given (None means "no limit"): a one-member enum, so type checkers narrow on it."""

    UNSET = enum.auto()


_UNSET = _Unset.UNSET
# How Postgres and SQLite name the unique constraint on the code string.
_CODE_UNIQUE = {"codes_referralcode_code_key": "code", "codes_referralcode.code": "code"}


def code_generate_value() -> str:
    """A random code from an alphabet without look-alikes (no 0/O, 1/I/L)."""
    return "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(settings.REFERRAL_CODE_LENGTH))


def code_terms_check(
    *, now: datetime, expires_at: datetime | None = None, max_uses: int | None = None, uses: int = 0
) -> None:
    """The rules on a code's terms, wherever they are set (the API, the admin): an expiry
    in the future, a use limit not below the uses so far. Raises CodeExpiresInPastError,
    CodeMaxUsesBelowUsesError."""
    if expires_at is not None and expires_at <= now:
        raise CodeExpiresInPastError()
    if max_uses is not None and max_uses < uses:
        raise CodeMaxUsesBelowUsesError()


def _expiry(
    *, expires_at: datetime | None, live_days: int | None, now: datetime
) -> datetime | None:
    if live_days is not None:
        return now + timedelta(days=live_days)
    code_terms_check(now=now, expires_at=expires_at)
    return expires_at


def _deactivate_active_codes(*, owner: User) -> list[str]:
    active = list(
        ReferralCode.objects.filter(owner=owner, is_active=True).values_list("code", flat=True)
    )
    ReferralCode.objects.filter(owner=owner, is_active=True).update(is_active=False)
    return active


@transaction.atomic
def code_issue(
    *,
    owner: User,
    now: datetime,
    value: str | None = None,
    expires_at: datetime | None = None,
    live_days: int | None = None,
    max_uses: int | None = None,
) -> ReferralCode:
    """Create the owner's new active code (generated when `value` is None) and deactivate
    the previous one. Raises CodeTakenError, CodeExpiresInPastError."""
    expiry = _expiry(expires_at=expires_at, live_days=live_days, now=now)
    # Serializes one owner's code changes, so two parallel creations leave one active
    # code; the partial unique index codes_one_active_per_owner is the final guard.
    locks.advisory_lock(namespace=locks.CODE_OWNER, key=owner.pk)
    previous = _deactivate_active_codes(owner=owner)
    attempts = 1 if value is not None else _GENERATE_ATTEMPTS
    for _attempt in range(attempts):
        candidate = code_normalize(value) if value is not None else code_generate_value()
        try:
            with transaction.atomic():
                code = ReferralCode.objects.create(
                    owner=owner,
                    code=candidate,
                    expires_at=expiry,
                    max_uses=max_uses,
                    created_at=now,
                )
        except IntegrityError as exc:
            if violated_constraint(exc, _CODE_UNIQUE) is None:
                raise
            continue
        public_codes_invalidate_on_commit([*previous, code.code])
        return code
    raise CodeTakenError()


@transaction.atomic
def code_update(
    *,
    code: ReferralCode,
    now: datetime,
    expires_at: datetime | Literal[_Unset.UNSET] | None = _UNSET,
    max_uses: int | Literal[_Unset.UNSET] | None = _UNSET,
    is_active: bool | Literal[_Unset.UNSET] = _UNSET,
) -> ReferralCode:
    """Change a code's expiry, use limit or activity; re-activating it deactivates the
    owner's current code. Raises CodeExpiresInPastError, CodeMaxUsesBelowUsesError."""
    locks.advisory_lock(namespace=locks.CODE_OWNER, key=code.owner_id)
    locked = (
        ReferralCode.objects.select_for_update().filter(pk=code.pk, deleted_at__isnull=True).first()
    )
    if locked is None:  # deleted since the caller read it
        raise CodeNotFoundError()
    code = locked
    invalidated = [code.code]
    code_terms_check(
        now=now,
        expires_at=None if expires_at is _UNSET else expires_at,
        max_uses=None if max_uses is _UNSET else max_uses,
        uses=code.uses,
    )
    if expires_at is not _UNSET:
        code.expires_at = expires_at
    if max_uses is not _UNSET:
        code.max_uses = max_uses
    if is_active is True and not code.is_active:
        invalidated += _deactivate_active_codes(owner=code.owner)
    if is_active is not _UNSET:
        code.is_active = bool(is_active)
    code.save(update_fields=["expires_at", "max_uses", "is_active"])
    public_codes_invalidate_on_commit(invalidated)
    return code


@transaction.atomic
def code_delete(*, code: ReferralCode, now: datetime) -> None:
    """Take a code out of its owner's list for good; its string stays reserved and users
    who signed up with it keep their referrer."""
    # Exclusive against redemptions of the owner's codes (code_redeem), like every change.
    locks.advisory_lock(namespace=locks.CODE_OWNER, key=code.owner_id)
    ReferralCode.objects.filter(pk=code.pk).update(is_active=False, deleted_at=now)
    public_codes_invalidate_on_commit([code.code])


def code_redeem(*, value: str, now: datetime) -> ReferralCode:
    """The code a sign-up or `/me/referrer/` redeems, with its owner, if it would be
    accepted now. Its use is counted by code_count_use, which the caller's transaction
    must run as its last step. Raises CodeInvalidError, CodeExpiredError, CodeUsedUpError.

    No row lock is taken here: a popular code gets many sign-ups at once, and a lock on
    its row held through each whole sign-up would line them up one behind the other.
    """
    value = code_normalize(value)
    owner_id = ReferralCode.objects.filter(code=value).values_list("owner_id", flat=True).first()
    if owner_id is None:
        raise CodeInvalidError()
    # Shared with other redemptions of the owner's codes, exclusive against changes to the
    # owner's codes and the owner's deactivation, and held to the commit: so nothing but
    # other redemptions' counts changes the code before it commits, and a sign-up never
    # attaches to an owner whose deactivation commits beside it.
    locks.advisory_lock(namespace=locks.CODE_OWNER, key=owner_id, shared=True)
    code = ReferralCode.objects.select_related("owner").get(code=value)
    code_check_redeemable(code=code, now=now)
    return code


def code_count_use(*, code: ReferralCode, now: datetime) -> None:
    """Count one use of a code that code_redeem accepted in this transaction; run it last,
    just before the commit. One conditional UPDATE settles `max_uses`: of parallel
    redemptions of a code with one use left, one counts and the others raise
    CodeUsedUpError (their transactions roll back). The UPDATE locks the row until the
    commit, so the later it runs, the less parallel sign-ups with one code wait for each
    other."""
    counted = (
        ReferralCode.objects.filter(pk=code.pk, is_active=True, deleted_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
    )
    if not counted:
        # What changed since code_redeem read it: other redemptions used it up, as a rule
        # (its owner lock keeps the code's other writers out).
        code.refresh_from_db(fields=["is_active", "deleted_at", "expires_at", "uses", "max_uses"])
        code_check_redeemable(code=code, now=now)
        raise CodeUsedUpError()
    public_codes_invalidate_on_commit([code.code])


def codes_invalidate_for_owner(*, owner: User) -> None:
    """Clear the public lookup of every code of `owner` after commit (the owner's name or
    status shows through it)."""
    public_codes_invalidate_on_commit(
        ReferralCode.objects.filter(owner=owner, deleted_at__isnull=True).values_list(
            "code", flat=True
        )
    )


# A burst of visits from one network (a refresh, a shared office) is one click a minute.
CLICK_REPEAT_SECONDS = 60


@transaction.atomic
def code_click_record(*, value: str, network: str, user_agent_hash: str, now: datetime) -> bool:
    """Count a share-link visit as a click of the code `value`, unless no code has that
    string or a click from `network` was counted for it in the last CLICK_REPEAT_SECONDS.
    Returns whether it counted."""
    try:
        value = code_normalize(value)
    except CodeInvalidError:
        return False
    code_id = ReferralCode.objects.filter(code=value).values_list("pk", flat=True).first()
    if code_id is None:
        return False
    # `add` is atomic: of parallel visits from one network, one counts.
    if not cache.add(f"codes:click:{code_id}:{network}", 1, timeout=CLICK_REPEAT_SECONDS):
        return False
    ReferralClick.objects.create(
        code_id=code_id, clicked_at=now, network=network, user_agent_hash=user_agent_hash
    )
    ReferralCode.objects.filter(pk=code_id).update(clicks=F("clicks") + 1)
    return True


def share_link_visit(
    *, value: str, network: str, user_agent_hash: str, is_person: bool, now: datetime
) -> str:
    """Where a share link sends its visitor: the landing page (REFERRAL_LANDING_URL) with
    `ref=<CODE>` when a sign-up would accept the code now, else without it, so a stale
    link never shows an error. A person's visit (`is_person`: not a bot or a prefetch)
    counts as a click (code_click_record)."""
    if is_person:
        code_click_record(value=value, network=network, user_agent_hash=user_agent_hash, now=now)
    try:
        return code_landing_url(code=code_public_get(value=value, now=now).code)
    except CodeNotFoundError:
        return code_landing_url(code=None)


@transaction.atomic
def code_email_send(*, owner: User, language: str, now: datetime) -> None:
    """Queue an email of the owner's active code, its expiry and share link to the
    owner's address, in `language`, written in this transaction: the worker sends it if
    and only if the transaction commits. Raises CodeEmailNoAddressError, CodeNoActiveError,
    common.errors.EmailUnavailableError (the queue refused it)."""
    if not owner.email:
        raise CodeEmailNoAddressError()
    code = code_get_active_for_owner(owner=owner)
    email_enqueue(
        code_email_deliver, user_uuid=str(owner.uuid), language=language, now=now, code=code.code
    )


@transaction.atomic
def codes_retire_for_owner(*, owner: User, now: datetime) -> None:
    """Delete every code of `owner` (their erasure): the rows and strings stay, reserved,
    and the users who signed up with them keep them as `referred_with_code`; the public
    lookup stops showing them after commit, cached or not. Call under the owner's
    CODE_OWNER lock."""
    codes = ReferralCode.objects.filter(owner=owner)
    public_codes_invalidate_on_commit(list(codes.values_list("code", flat=True)))
    codes.filter(deleted_at__isnull=True).update(is_active=False, deleted_at=now)


def code_refusal_count(*, reason: str, now: datetime) -> None:
    """Count one refusal of an invite code for `reason` on the (UTC) day of `now`."""
    day = now.astimezone(UTC).date()
    today = RefusalDay.objects.filter(day=day, reason=reason)
    if today.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            RefusalDay.objects.create(day=day, reason=reason, count=1)
    except IntegrityError:
        today.update(count=F("count") + 1)  # the first of the day, created meanwhile


@contextmanager
def code_refusals_counted(*, now: datetime) -> Iterator[None]:
    """Count the invite-code refusal (a DomainError with `refuses_invite_code`) that leaves
    this block, and let it go on. Wrap the whole transaction that redeems the code: the
    count is written after that transaction has rolled back, or it would go with it."""
    try:
        yield
    except DomainError as exc:
        if exc.refuses_invite_code:
            code_refusal_count(reason=exc.code, now=now)
        raise
