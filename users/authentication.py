from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from users.errors import UserNotFoundError
from users.models import User
from users.selectors import user_get_by_uuid


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication, loading the user with users.selectors.
    user_get_by_uuid: every authenticated request pays for this lookup, and the ORM's
    `get()` spent three times as long building the query as Postgres spent running it."""

    def get_user(self, validated_token: Token) -> User:
        if api_settings.USER_ID_FIELD != "uuid":
            return super().get_user(validated_token)  # the fast lookup knows only `uuid`
        # The checks of simplejwt's get_user, in its words (and so its translations).
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        try:
            user = user_get_by_uuid(uuid=user_id)
        except UserNotFoundError as exc:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from exc
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                _("The user's password has been changed."), code="password_changed"
            )
        return user


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The OpenAPI bearer scheme drf-spectacular documents for simplejwt's class."""

    target_class = "users.authentication.JWTAuthentication"
