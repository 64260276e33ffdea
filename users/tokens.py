"""simplejwt's refresh and verify serializers, with our rules: thin shells over
users.services.tokens and users.selectors.token_user_get."""

from dataclasses import asdict
from typing import Any

from rest_framework_simplejwt.serializers import TokenRefreshSerializer, TokenVerifySerializer
from rest_framework_simplejwt.tokens import UntypedToken

from users.selectors import token_user_get
from users.services.tokens import token_refresh_rotate


class TokenRefreshInputSerializer(TokenRefreshSerializer):
    """A refresh token, traded for a new access and refresh token; the one sent stops
    working. Of several requests with one refresh token exactly one succeeds."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        return asdict(token_refresh_rotate(raw_refresh=attrs["refresh"]))


class TokenVerifyInputSerializer(TokenVerifySerializer):
    """A token to check. It is refused exactly when the API would refuse it: malformed,
    expired, ended, its user inactive, or issued before the password last changed."""

    def validate(self, attrs: dict[str, Any]) -> dict[Any, Any]:
        data = super().validate(attrs)
        token_user_get(token=UntypedToken(attrs["token"]))
        return data
