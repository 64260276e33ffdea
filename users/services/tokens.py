"""JWT refresh tokens: rotation, logout, and ending them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Field
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from common.network import UNKNOWN_NETWORK
from users.errors import RefreshTokenInvalidError
from users.models import User
from users.selectors import token_user_get


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


_OUTSTANDING = OutstandingToken._meta
_OUTSTANDING_FIELDS: list[Field[Any, Any]] = [
    _OUTSTANDING.get_field("jti"),
    _OUTSTANDING.get_field("token"),
    _OUTSTANDING.get_field("created_at"),
    _OUTSTANDING.get_field("expires_at"),
    _OUTSTANDING.get_field("user"),
]
_OUTSTANDING_INSERT_SQL = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
    _OUTSTANDING.db_table,
    ", ".join(f'"{field.column}"' for field in _OUTSTANDING_FIELDS),
    ", ".join(["%s"] * len(_OUTSTANDING_FIELDS)),
)


def tokens_issue(*, user: User) -> TokenPair:
    """A new access and refresh token for `user`, the refresh token recorded as
    outstanding (so it can be ended). The caller has checked that `user` may sign in.

    The claims of simplejwt's RefreshToken.for_user, and the row it inserts, written as
    one statement: through the ORM the insert cost a phone sign-in more CPU than the
    rest of its database work (bench/README.md, "Phone sign-in")."""
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
    if api_settings.CHECK_REVOKE_TOKEN:
        refresh[api_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    encoded = str(refresh)
    values = [
        refresh[api_settings.JTI_CLAIM],
        encoded,
        refresh.current_time,
        datetime_from_epoch(refresh["exp"]),
        user.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _OUTSTANDING_INSERT_SQL,
            [
                field.get_db_prep_save(value, connection)
                for field, value in zip(_OUTSTANDING_FIELDS, values, strict=True)
            ],
        )
    return TokenPair(access=str(refresh.access_token), refresh=encoded)


def _refresh_token(raw_refresh: str) -> RefreshToken:
    try:
        # simplejwt annotates its `token` argument as a Token, yet takes (and its own
        # serializers pass) the encoded string.
        return RefreshToken(raw_refresh)  # type: ignore[arg-type]
    except TokenError as exc:
        raise RefreshTokenInvalidError() from exc


def token_refresh_rotate(*, raw_refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair and end it: of several requests with one
    refresh token exactly one succeeds, as the old token is blacklisted under its row
    lock before the new pair is issued. Raises RefreshTokenInvalidError (malformed,
    expired, ended) and token_user_get's errors."""
    refresh = _refresh_token(raw_refresh)
    token_user_get(token=refresh)
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update()
            .filter(jti=refresh.payload.get(api_settings.JTI_CLAIM))
            .first()
        )
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            # simplejwt's words, and so its translations.
            raise RefreshTokenInvalidError(_("Token is blacklisted"))
        BlacklistedToken.objects.create(token=outstanding)
        # The rest of simplejwt's rotation, on the same claims with a new id and times.
        access = str(refresh.access_token)
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        refresh.outstand()
        return TokenPair(access=access, refresh=str(refresh))


def token_blacklist(*, user: User, raw_refresh: str) -> None:
    """End one of `user`'s refresh tokens (logout). Raises RefreshTokenInvalidError for
    a token that is malformed, expired, already ended or another user's."""
    token = _refresh_token(raw_refresh)
    if token.get(api_settings.USER_ID_CLAIM) != str(getattr(user, api_settings.USER_ID_FIELD)):
        raise RefreshTokenInvalidError()
    token.blacklist()


def tokens_revoke_all(*, user: User) -> None:
    """Blacklist every outstanding refresh token of `user`."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


def user_sign_in_network_record(*, user: User, network: str) -> None:
    """Remember `network` as the one `user` last signed in from (an unknown one is not
    kept), for the abuse signal "referred from the referrer's own network"."""
    if network == UNKNOWN_NETWORK:
        return
    User.objects.filter(pk=user.pk).exclude(last_sign_in_network=network).update(
        last_sign_in_network=network
    )
    user.last_sign_in_network = network
