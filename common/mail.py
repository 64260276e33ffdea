"""Email sent after the response, not during it.

An SMTP exchange takes from milliseconds to EMAIL_TIMEOUT seconds. Inside the request it
would hold a sync gunicorn worker that long, on anonymous endpoints too, and the response
time would tell whether a message was sent at all (which the password reset must not
reveal). A small thread pool per worker process sends instead; its threads are joined
when the process exits, so a graceful gunicorn shutdown still delivers what is queued.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from django.utils import translation

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
_pending: set[Future[None]] = set()


def send_later(
    send: Callable[[], Any],
    *,
    log_extra: dict[str, Any],
    on_failure: Callable[[], object] | None = None,
) -> None:
    """Call `send` (which renders and sends a message) on a background thread, in the
    caller's language. A mail server that is down, slow or refusing is logged with
    `log_extra`, and `on_failure` called, never raised."""
    future = _executor.submit(_send, send, translation.get_language(), log_extra, on_failure)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def wait_for_outgoing_mail(timeout: float = 30) -> None:
    """Block until every message handed to send_later so far is sent or given up on
    (tests, and anything that must see the mail out before it goes on)."""
    wait(list(_pending), timeout=timeout)


def _send(
    send: Callable[[], Any],
    language: str | None,
    log_extra: dict[str, Any],
    on_failure: Callable[[], object] | None,
) -> None:
    try:
        with translation.override(language):
            send()
    except (smtplib.SMTPException, OSError):
        logger.exception("Email not sent", extra=log_extra)
        if on_failure is not None:
            on_failure()
