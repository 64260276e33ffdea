from typing import cast

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from common.access import Access
from common.throttles import AnonThrottle, UserThrottle
from users.errors import (
    TokenEndedError,
    TokenRevokedError,
    TokenUserInactiveError,
    TokenUserNotFoundError,
)
from users.models import User
from users.selectors import token_user_get


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication, with the user checked by users.selectors.
    token_user_get, as refresh and verify check it. Every authenticated request pays for
    this lookup; its query is hand-written (user_get_by_uuid), as the ORM's `get()` spent
    three times as long building the query as Postgres spent running it."""

    # simplejwt annotates get_user's return with a TypeVar bound by nothing else, which no
    # concrete return type can override.
    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        try:
            return token_user_get(token=validated_token)
        except (
            TokenUserNotFoundError,
            TokenUserInactiveError,
            TokenRevokedError,
            TokenEndedError,
        ) as exc:
            # AuthenticationFailed, not the domain error as it is: DRF answers it with the
            # WWW-Authenticate header a 401 needs. simplejwt annotates `detail` as `str`
            # only; a lazy message renders in the request's language.
            raise AuthenticationFailed(exc.detail, code=exc.code) from exc  # type: ignore[arg-type]


def authenticated_user(request: Request) -> User:
    """The signed-in User of a request to a view that requires authentication.

    DRF types `request.user` as `User | AnonymousUser`. IsAuthenticated (the default
    permission class) refuses AnonymousUser before the view runs, and JWTAuthentication
    only ever sets a User: this narrows the type for services, without a runtime check."""
    return cast(User, request.user)


# The staff's user administration: a bearer token of a staff user. Anyone else is refused
# by the permission before the view looks anything up, so a 403 tells nothing about the
# user asked for.
STAFF_ACCESS = Access(
    authentication=[JWTAuthentication],
    permissions=[IsAdminUser],
    throttles=[AnonThrottle, UserThrottle],
)


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The OpenAPI bearer scheme drf-spectacular documents for simplejwt's class."""

    target_class = "users.authentication.JWTAuthentication"
