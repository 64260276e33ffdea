from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from codes.cache import public_code_read_through
from codes.errors import (
    CodeExpiredError,
    CodeInvalidError,
    CodeNoActiveError,
    CodeNotFoundError,
    CodeUsedUpError,
)
from codes.models import CODE_CHARACTERS, CODE_MAX_LENGTH, ReferralCode

if TYPE_CHECKING:
    from users.models import User

_CODE_SHAPE = re.compile(f"[{CODE_CHARACTERS}]{{1,{CODE_MAX_LENGTH}}}")


def code_normalize(value: str) -> str:
    """The stored form of a code string (upper case). Raises CodeInvalidError for a string
    no code can have (which also keeps NUL bytes and the like away from the database)."""
    value = value.strip()
    if not _CODE_SHAPE.fullmatch(value):
        raise CodeInvalidError()
    return value.upper()


def code_list_for_owner(*, owner: User) -> QuerySet[ReferralCode]:
    """The owner's codes that are not deleted, newest first."""
    return ReferralCode.objects.filter(owner=owner, deleted_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def code_get_for_owner(*, owner: User, value: str) -> ReferralCode:
    """One of the owner's codes. Raises CodeNotFoundError for anyone else's, or a deleted one."""
    try:
        return code_list_for_owner(owner=owner).get(code=code_normalize(value))
    except (ReferralCode.DoesNotExist, CodeInvalidError) as exc:
        raise CodeNotFoundError() from exc


def code_get_active_for_owner(*, owner: User) -> ReferralCode:
    """The owner's active code (expired or not). Raises CodeNoActiveError."""
    code = ReferralCode.objects.filter(owner=owner, is_active=True).first()
    if code is None:
        raise CodeNoActiveError()
    return code


def code_check_redeemable(*, code: ReferralCode, now: datetime) -> None:
    """Raise the error a sign-up with `code` would meet now; return if it would be accepted."""
    if not code.is_active or code.deleted_at is not None or not code.owner.is_active:
        raise CodeInvalidError()
    if code.expires_at is not None and code.expires_at <= now:
        raise CodeExpiredError()
    if code.max_uses is not None and code.uses >= code.max_uses:
        raise CodeUsedUpError()


@dataclass(frozen=True)
class PublicCode:
    code: str
    username: str
    expires_at: datetime | None


def code_public_get(*, value: str, now: datetime) -> PublicCode:
    """A code as the public lookup shows it, if a sign-up would accept it now.

    Served from the cache (codes.cache), which every change to the code clears after
    commit. The expiry is re-checked on every read, so an entry is never
    trusted past it. Raises CodeNotFoundError otherwise.
    """
    try:
        value = code_normalize(value)
    except CodeInvalidError as exc:
        raise CodeNotFoundError() from exc
    entry = public_code_read_through(
        value, load=lambda: _public_entry_from_db(value=value, now=now)
    )
    if not entry:
        raise CodeNotFoundError()
    expires_at = parse_datetime(entry["expires_at"]) if entry["expires_at"] else None
    if expires_at is not None and expires_at <= now:
        raise CodeNotFoundError()
    return PublicCode(code=entry["code"], username=entry["username"], expires_at=expires_at)


def _public_entry_from_db(*, value: str, now: datetime) -> dict[str, str | None]:
    """A cacheable entry: the fields to show, or {} when the code would be refused."""
    code = ReferralCode.objects.select_related("owner").filter(code=value).first()
    if code is None:
        return {}
    try:
        code_check_redeemable(code=code, now=now)
    except (CodeInvalidError, CodeExpiredError, CodeUsedUpError):
        return {}
    return {
        "code": code.code,
        "username": code.owner.username or "",
        "expires_at": code.expires_at.isoformat() if code.expires_at else None,
    }


def code_landing_url(*, code: str | None) -> str:
    """The landing page a share link sends to (REFERRAL_LANDING_URL, or the service's own
    `/invite/`), with `ref=<code>` added to its query when `code` is given."""
    landing = settings.REFERRAL_LANDING_URL or reverse("invite-landing")
    if code is None:
        return landing
    scheme, netloc, path, query, fragment = urlsplit(landing)
    params = [(key, val) for key, val in parse_qsl(query, keep_blank_values=True) if key != "ref"]
    return urlunsplit((scheme, netloc, path, urlencode([*params, ("ref", code)]), fragment))
