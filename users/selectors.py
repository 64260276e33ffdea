from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from codes.models import ReferralCode, code_share_url
from common.db import select_one
from users.errors import (
    TokenEndedError,
    TokenRevokedError,
    TokenUserInactiveError,
    TokenUserNotFoundError,
    UserNotFoundError,
)
from users.models import User


def referrals_count_expression() -> Coalesce:
    """The number of direct referrals of each row, as an annotation: a correlated subquery
    answered by users_user_referrals_idx for just the rows fetched, rather than a
    Count() over a join that groups the whole table first."""
    per_referrer = (
        User.objects.filter(referred_by=OuterRef("pk"))
        .order_by()
        .values("referred_by")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(per_referrer, output_field=IntegerField()), Value(0))


@dataclass(frozen=True)
class ProfileReferrer:
    uuid: UUID
    username: str
    code: str  # the invite code the user signed up with; "" when the referrer was set by id


@dataclass(frozen=True)
class ProfileCode:
    code: str
    expires_at: datetime | None

    @property
    def share_url(self) -> str:
        return code_share_url(self.code)


@dataclass(frozen=True)
class UserProfile:
    user: User
    referred_by: ProfileReferrer | None
    referral_code: ProfileCode | None
    referrals_count: int


# /api/users/me/ is the hottest read: as an ORM query with three subqueries it took
# 1.5 ms of CPU to build and compile, and 0.1 ms as this statement (bench/README.md).
_PROFILE_SQL = """
SELECT referrer.uuid, referrer.username, used_code.code, active_code.code,
       active_code.expires_at,
       (SELECT COUNT(*) FROM users_user referral
        WHERE referral.referred_by_id = account.id)
FROM users_user account
LEFT JOIN users_user referrer ON referrer.id = account.referred_by_id
LEFT JOIN codes_referralcode used_code
  ON used_code.id = account.referred_with_code_id
LEFT JOIN codes_referralcode active_code
  ON active_code.owner_id = account.id AND active_code.is_active
WHERE account.id = %s
"""
_PROFILE_FIELDS = [
    User._meta.get_field("uuid"),
    None,
    None,
    None,
    ReferralCode._meta.get_field("expires_at"),
    None,
]


# Every authenticated request loads its user; built once, this statement costs a third of
# the ORM's `get()` (bench/README.md).
_USER_FIELDS = User._meta.concrete_fields
_USER_BY_UUID_SQL = "SELECT {} FROM users_user WHERE uuid = %s".format(  # noqa: S608
    ", ".join(f'"{field.column}"' for field in _USER_FIELDS)
)
_USER_ATTNAMES = [field.attname for field in _USER_FIELDS]


def user_get_by_uuid(*, uuid: UUID | str) -> User:
    """The user with this public id, active or not. Raises UserNotFoundError for no such
    user and for a malformed id."""
    try:
        value = User._meta.get_field("uuid").get_db_prep_value(uuid, connection)
    except ValidationError as exc:
        raise UserNotFoundError() from exc
    row = select_one(_USER_BY_UUID_SQL, [value], _USER_FIELDS)
    if row is None:
        raise UserNotFoundError()
    return User.from_db(connection.alias, _USER_ATTNAMES, row)


def user_get(*, uuid: UUID) -> User:
    """The user with this public id, for staff. Raises UserNotFoundError for no such user,
    and for an erased one: to the API, an erased user no longer exists."""
    user = User.objects.filter(uuid=uuid, erased_at__isnull=True).first()
    if user is None:
        raise UserNotFoundError()
    return user


def token_user_get(*, token: Token) -> User:
    """The user a token (access or refresh) stands for, if it still may: the user exists,
    is active, and the token was issued since their password last changed (each token
    carries a digest of the password hash: simplejwt's CHECK_REVOKE_TOKEN, applied here
    to every kind of token), and not before the account was last restored. The one check
    behind authentication, refresh and verify. Raises TokenUserNotFoundError,
    TokenUserInactiveError, TokenRevokedError, TokenEndedError."""
    try:
        user = user_get_by_uuid(uuid=token.payload.get(api_settings.USER_ID_CLAIM) or "")
    except UserNotFoundError as exc:
        raise TokenUserNotFoundError() from exc
    if not user.is_active:
        raise TokenUserInactiveError()
    if token.payload.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise TokenRevokedError()
    # `iat` is whole seconds, and tokens_valid_from a second's start (user_restore).
    valid_from = user.tokens_valid_from
    if valid_from is not None and _issued_at(token) < valid_from.timestamp():
        raise TokenEndedError()
    return user


def _issued_at(token: Token) -> float:
    issued_at = token.payload.get("iat")
    return float(issued_at) if isinstance(issued_at, int | float) else float("-inf")


def user_profile_get(*, user: User) -> UserProfile:
    """What the profile shows of `user` (as loaded, e.g. by authentication): the referrer
    and the code used, the number of direct referrals and the active code, in one query.
    Raises UserNotFoundError if the user no longer exists."""
    row = select_one(_PROFILE_SQL, [user.pk], _PROFILE_FIELDS)
    if row is None:
        raise UserNotFoundError()
    referrer_uuid, referrer_username, used_code, active_code, expires_at, referrals_count = row
    return UserProfile(
        user=user,
        referred_by=(
            ProfileReferrer(referrer_uuid, referrer_username or "", used_code or "")
            if referrer_uuid is not None
            else None
        ),
        referral_code=ProfileCode(active_code, expires_at) if active_code is not None else None,
        referrals_count=referrals_count,
    )


def user_for_password_reset(*, email: str) -> User | None:
    """The active user with this email (compared case-insensitively) who has a usable
    password, or None."""
    try:
        user = User.objects.get_by_natural_key(email)
    except User.DoesNotExist:
        return None
    return user if user.is_active and user.has_usable_password() else None
