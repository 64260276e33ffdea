from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.serializers import TokenRefreshSerializer, TokenVerifySerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import Token, UntypedToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from users.models import User


def _check_token_user(token: Token) -> None:
    """Refuse a token whose user is gone or inactive, or issued before the user's password
    last changed (the check CHECK_REVOKE_TOKEN makes for access tokens, for every token)."""
    user = User.objects.filter(
        **{api_settings.USER_ID_FIELD: token.payload.get(api_settings.USER_ID_CLAIM)}
    ).first()
    # The messages stay lazy, as simplejwt's own do, so they render in the request's
    # language; simplejwt annotates `detail` as `str` only, hence the arg-type ignores.
    if user is None or not user.is_active:
        raise AuthenticationFailed(
            _("No active account found for the given token."),  # type: ignore[arg-type]
            "no_active_account",
        )
    if token.payload.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise InvalidToken(_("The password has changed since this token was issued."))  # type: ignore[arg-type]


class TokenRefreshInputSerializer(TokenRefreshSerializer):
    """simplejwt's refresh with rotation that parallel replays cannot beat: the old token
    is blacklisted under a row lock before the new pair is issued, so of several requests
    with one refresh token exactly one succeeds."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = self.token_class(attrs["refresh"])
        _check_token_user(refresh)
        with transaction.atomic():
            outstanding = (
                OutstandingToken.objects.select_for_update()
                .filter(jti=refresh.payload.get(api_settings.JTI_CLAIM))
                .first()
            )
            if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
                # A lazy message, as in _check_token_user.
                raise InvalidToken(_("Token is blacklisted"))  # type: ignore[arg-type]
            BlacklistedToken.objects.create(token=outstanding)
            # The rest of simplejwt's rotation (its validate() would parse the token
            # again and now find it blacklisted).
            data = {"access": str(refresh.access_token)}
            refresh.set_jti()
            refresh.set_exp()
            refresh.set_iat()
            refresh.outstand()
            data["refresh"] = str(refresh)
            return data


class TokenVerifyInputSerializer(TokenVerifySerializer):
    """simplejwt's verify, which also refuses tokens of inactive users and tokens issued
    before a password change: what verify says matches what the API accepts."""

    def validate(self, attrs: dict[str, Any]) -> dict[Any, Any]:
        data = super().validate(attrs)
        _check_token_user(UntypedToken(attrs["token"]))
        return data
