from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from djoser import email, utils
from djoser.conf import settings as djoser_settings


@dataclass(frozen=True)
class LinkSite:
    """Where an email's links point unless DJOSER's EMAIL_FRONTEND_PROTOCOL and
    EMAIL_FRONTEND_DOMAIN say otherwise: the scheme and host the request came in on."""

    protocol: str
    domain: str

    @classmethod
    def of(cls, request: HttpRequest) -> LinkSite:
        return cls("https" if request.is_secure() else "http", request.get_host())

    def context(self) -> dict[str, str]:
        return {"protocol": self.protocol, "domain": self.domain, "site_name": self.domain}


class PasswordResetEmail(email.PasswordResetEmail):
    """djoser's reset email with the user's UUID in the link: integer ids never leave."""

    def get_context_data(self) -> dict[str, Any]:
        context = super().get_context_data()
        context["uid"] = utils.encode_uid(str(context["user"].uuid))
        context["url"] = djoser_settings.PASSWORD_RESET_CONFIRM_URL.format(**context)
        return context
