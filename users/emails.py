"""The password-reset email: where its link points, and the message itself."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest
from djoser import utils
from djoser.conf import settings as djoser_settings

from common.emails import TemplatedEmail, email_render
from users.models import User

PASSWORD_RESET_EMAIL = "password_reset"


@dataclass(frozen=True)
class LinkSite:
    """Where an email's links point unless DJOSER's EMAIL_FRONTEND_PROTOCOL and
    EMAIL_FRONTEND_DOMAIN say otherwise: the scheme and host the request came in on."""

    protocol: str
    domain: str

    @classmethod
    def of(cls, request: HttpRequest) -> LinkSite:
        return cls("https" if request.is_secure() else "http", request.get_host())

    def resolved(self) -> LinkSite:
        """This site with the configured frontend's scheme and host in place of its own."""
        return LinkSite(
            djoser_settings.EMAIL_FRONTEND_PROTOCOL or self.protocol,
            djoser_settings.EMAIL_FRONTEND_DOMAIN or self.domain,
        )


def password_reset_email_build(*, user: User, site: LinkSite) -> TemplatedEmail:
    """The reset email to `user`, its link on `site` (or the configured frontend) with
    the user's UUID, never the integer id, and a token made now: it works once, and for
    PASSWORD_RESET_TIMEOUT from the moment it is sent."""
    site = site.resolved()
    token = default_token_generator.make_token(user)
    path = djoser_settings.PASSWORD_RESET_CONFIRM_URL.format(
        uid=utils.encode_uid(str(user.uuid)), token=token
    )
    return email_render(
        template=PASSWORD_RESET_EMAIL,
        context={
            "url": f"{site.protocol}://{site.domain}/{path}",
            "site_name": djoser_settings.EMAIL_FRONTEND_SITE_NAME or site.domain,
        },
        to=str(user.email),
        sensitive=[token],
    )
