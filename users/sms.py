"""Text messages, shaped like Django's email backends: SMS_BACKEND names a class with
`send_messages(messages) -> int`, and `sms_send` sends one message through it.

- `console` prints each message whole (the code included, so phone sign-in can be tried
  on `make run`); in production, where it runs only when chosen explicitly, it masks the
  digits and the phone, so no code reaches the server's output.
- `locmem` appends to `outbox`, for tests (as django.core.mail.outbox).
- `http` hands each message to the gateway at SMS_HTTP_URL (users.clients).
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from django.conf import settings
from django.utils.module_loading import import_string

from users.clients import SmsGatewayError, sms_gateway_send


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164
    text: str


class SmsSendError(Exception):
    """A backend could not send a message; raised from the backend's own error."""


class BaseSmsBackend:
    """What every SMS backend implements. `send_messages` returns how many messages
    were sent and raises SmsSendError for the first one that could not be."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        raise NotImplementedError


# Digit runs long enough to be a code; "5 minutes" keeps its 5.
_CODE_LIKE = re.compile(r"\d{4,}")


def _masked_phone(phone: str) -> str:
    return phone[:2] + "*" * max(len(phone) - 4, 0) + phone[-2:]


class ConsoleSmsBackend(BaseSmsBackend):
    def __init__(self, *, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        mask = settings.APP_ENV == "production"
        with self._lock:
            for message in messages:
                to, text = message.to, message.text
                if mask:
                    to, text = _masked_phone(to), _CODE_LIKE.sub(lambda m: "*" * len(m[0]), text)
                self.stream.write(f"SMS to {to}: {text}\n")
            self.stream.flush()
        return len(messages)


outbox: list[SmsMessage] = []


class LocmemSmsBackend(BaseSmsBackend):
    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


class HttpSmsBackend(BaseSmsBackend):
    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        for message in messages:
            try:
                sms_gateway_send(to=message.to, text=message.text)
            except SmsGatewayError as exc:
                raise SmsSendError("gateway refused or unreachable") from exc
        return len(messages)


def sms_backend_get() -> BaseSmsBackend:
    backend_class: type[BaseSmsBackend] = import_string(settings.SMS_BACKEND)
    return backend_class()


def sms_send(*, to: str, text: str) -> None:
    """Send one message through SMS_BACKEND. Raises SmsSendError."""
    sms_backend_get().send_messages([SmsMessage(to=to, text=text)])
