from typing import cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.request import Request
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

    # simplejwt annotates get_user's return with a TypeVar bound by nothing else, which no
    # concrete return type can override.
    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        if api_settings.USER_ID_FIELD != "uuid":
            # The fast lookup knows only `uuid`; simplejwt's finds an AUTH_USER_MODEL, a User.
            return cast(User, super().get_user(validated_token))
        # The checks of simplejwt's get_user, in its words (and so its translations). The
        # messages stay lazy, as simplejwt's own do, so they render in the request's
        # language; simplejwt annotates `detail` as `str` only, hence the arg-type ignores.
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc  # type: ignore[arg-type]
        try:
            user = user_get_by_uuid(uuid=user_id)
        except UserNotFoundError as exc:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from exc  # type: ignore[arg-type]
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")  # type: ignore[arg-type]
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                _("The user's password has been changed."),  # type: ignore[arg-type]
                code="password_changed",
            )
        return user


def authenticated_user(request: Request) -> User:
    """The signed-in User of a request to a view that requires authentication.

    DRF types `request.user` as `User | AnonymousUser`. IsAuthenticated (the default
    permission class) refuses AnonymousUser before the view runs, and JWTAuthentication
    only ever sets a User: this narrows the type for services, without a runtime check."""
    return cast(User, request.user)


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The OpenAPI bearer scheme drf-spectacular documents for simplejwt's class."""

    target_class = "users.authentication.JWTAuthentication"
