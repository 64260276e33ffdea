from typing import Any

from djoser import email, utils
from djoser.conf import settings as djoser_settings


class PasswordResetEmail(email.PasswordResetEmail):
    """djoser's reset email with the user's UUID in the link: integer ids never leave."""

    def get_context_data(self) -> dict[str, Any]:
        context = super().get_context_data()
        context["uid"] = utils.encode_uid(str(context["user"].uuid))
        context["url"] = djoser_settings.PASSWORD_RESET_CONFIRM_URL.format(**context)
        return context
