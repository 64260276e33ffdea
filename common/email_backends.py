"""Where mail goes when no mail server is configured."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends import console

MASK = "[masked]"
# A link's scheme and host stay readable; its path and query (tokens, codes) do not.
_URL = re.compile(r"(?P<site>https?://[^\s/?#\"'<>]+)[^\s\"'<>]*")


class ConsoleEmailBackend(console.EmailBackend):
    """Django's console backend: prints every message to stdout. In production (where it
    runs only when EMAIL_BACKEND=console is set explicitly) it masks first what would let
    a reader of the log act as the recipient: the values a message of ours names as
    sensitive (common.emails.TemplatedEmail: codes, links) and the path and query of every
    link in any message."""

    def write_message(self, message: EmailMessage) -> None:
        if settings.PRODUCTION:
            message = masked(message, sensitive=getattr(message, "sensitive", []))
        super().write_message(message)


def masked(message: EmailMessage, *, sensitive: Sequence[str]) -> EmailMultiAlternatives:
    """A copy of `message` with `sensitive` and links masked in its subject and bodies."""
    values = sorted({value for value in sensitive if value}, key=len, reverse=True)

    def mask(text: str) -> str:
        for value in values:
            text = text.replace(value, MASK)
        return _URL.sub(lambda match: f"{match['site']}/{MASK}", text)

    copy = EmailMultiAlternatives(
        subject=mask(str(message.subject)),
        body=mask(str(message.body)),
        from_email=message.from_email,
        to=message.to,
        cc=message.cc,
        bcc=message.bcc,
        reply_to=message.reply_to,
        headers=message.extra_headers,
    )
    for content, mimetype in getattr(message, "alternatives", []):
        copy.attach_alternative(mask(str(content)), mimetype)
    return copy
