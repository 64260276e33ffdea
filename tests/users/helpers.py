"""Helpers of the users tests (phone sign-in, the SMS backends, the API): plain functions."""

from __future__ import annotations

import re
import socket

from users import sms


def unused_port() -> int:
    """A local TCP port nothing listens on (connecting is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sent_code(outbox: list[sms.SmsMessage]) -> str:
    """The digits of the last SMS."""
    match = re.search(r"\d{4,}", outbox[-1].text)
    assert match, outbox[-1].text
    return match[0]
