from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from users.models import User


class TokenRefreshInputSerializer(TokenRefreshSerializer):
    """simplejwt's refresh, which also refuses a token issued before the user's password
    last changed (the access-token check of CHECK_REVOKE_TOKEN, applied to refresh) and a
    token of a user that no longer exists."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = self.token_class(attrs["refresh"])
        user = User.objects.filter(
            **{api_settings.USER_ID_FIELD: refresh.payload.get(api_settings.USER_ID_CLAIM)}
        ).first()
        if user is None or not user.is_active:
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        if refresh.payload.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(
            user.password
        ):
            raise InvalidToken(_("The password has changed since this token was issued."))
        return super().validate(attrs)
