"""Email through the job queue (Django's Tasks API with its database backend).

Every email the service sends is a task queued in the transaction of the request that
caused it: it exists if and only if that request's write committed, it survives a worker
restart or a deploy, and `manage.py db_worker` sends it. An SMTP exchange takes from
milliseconds to EMAIL_TIMEOUT seconds and a mail server can be down for hours; neither
holds a request, and the response time tells nothing of whether a message went out (which
the password reset must not reveal).

A task names its user by uuid and carries no address and no secret: the worker loads the
address and makes a link's token when it sends, so the queue holds no working reset link
and no address of a user erased meanwhile.

Each run of an email task is one attempt (`email_attempt`). A mail server that is
unreachable, times out, answers garbage or a 4xx ("try later") is tried again by a new
task of the same kind, due after a pause (30 s, doubling up to an hour), until
EMAIL_RETRY_HOURS after the request: the backend retries nothing itself. A 5xx answer (an
unknown mailbox) is final. A message given up is one line in the log with its kind and
the user's uuid, never the address or the link. Every attempt's log lines carry the
`request_id` of the request that queued the email, so one id follows a message from the
request to its delivery.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import OperationalError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django_guid import get_guid
from django_guid.context import guid
from django_tasks import TaskContext
from django_tasks.base import Task

from common.errors import EmailUnavailableError

logger = logging.getLogger(__name__)

# What an email task returns: its result in the task table (and the admin's task list).
SENT, SKIPPED, RETRYING, GIVEN_UP = "sent", "skipped", "retrying", "given_up"

FIRST_RETRY_DELAY = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(hours=1)


class TemplatedEmail(EmailMultiAlternatives):
    """A message of ours, with the values in it that the console backend masks in
    production (links, codes)."""

    sensitive: list[str]


def email_render(
    *, template: str, context: dict[str, Any], to: str, sensitive: list[str]
) -> TemplatedEmail:
    """The message of templates/emails/<template>_subject.txt, <template>.txt (the plain
    text body) and <template>.html (its HTML alternative), rendered with `context` in the
    active language, from DEFAULT_FROM_EMAIL to `to`."""
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    message = TemplatedEmail(
        subject=subject, body=render_to_string(f"emails/{template}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.sensitive = sensitive
    return message


def email_enqueue(
    task: Task[..., str], *, user_uuid: str, language: str, now: datetime, **params: Any
) -> None:
    """Queue the first attempt of an email task in the caller's transaction: the worker
    sends it once that commits, and never if it rolls back. Raises EmailUnavailableError
    when the database refuses the task; the caller's transaction stays usable."""
    try:
        with transaction.atomic():
            task.enqueue(
                user_uuid=user_uuid,
                language=language,
                queued_at=now.isoformat(),
                attempt=1,
                request_id=get_guid(),  # None outside a request (a management command)
                **params,
            )
    except OperationalError as exc:
        raise EmailUnavailableError() from exc


def retry_delay(*, attempt: int) -> timedelta:
    """The pause after failed attempt number `attempt` (from 1): 30 s, doubling, at most
    an hour."""
    return min(FIRST_RETRY_DELAY * 2 ** min(attempt - 1, 12), MAX_RETRY_DELAY)


def email_attempt(
    *,
    context: TaskContext,
    kind: str,
    user_uuid: str,
    language: str,
    queued_at: str,
    attempt: int,
    request_id: str | None,
    build: Callable[[], TemplatedEmail | None],
    now: datetime,
) -> str:
    """One attempt of an email task: build the message in the language of the request
    that queued it (None: nothing to send any more, the user is gone) and send it. After
    a passing failure, queue the next attempt, due after retry_delay() but no later than
    EMAIL_RETRY_HOURS after `queued_at`; at that point, or after a final failure, give the
    message up. Never raises for the mail server; returns SENT, SKIPPED, RETRYING or
    GIVEN_UP."""
    with _logged_as(request_id):
        log = {"email_kind": kind, "user_uuid": user_uuid, "attempt": attempt}
        with translation.override(language):
            message = build()
        if message is None:
            logger.info("Email skipped", extra=log)
            return SKIPPED
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            # The server's reply text may quote the address: only its class and code go out.
            failure = {**log, "error": type(exc).__name__, "smtp_code": _smtp_code(exc)}
            deadline = datetime.fromisoformat(queued_at) + timedelta(
                hours=settings.EMAIL_RETRY_HOURS
            )
            if _is_final(exc) or now >= deadline:
                logger.error("Email given up", extra=failure)
                return GIVEN_UP
            retry_at = min(now + retry_delay(attempt=attempt), deadline)
            result = context.task_result
            result.task.using(run_after=retry_at).enqueue(
                *result.args, **{**result.kwargs, "attempt": attempt + 1}
            )
            logger.warning(
                "Email not sent yet", extra={**failure, "retry_at": retry_at.isoformat()}
            )
            return RETRYING
        logger.info("Email sent", extra=log)
        return SENT


@contextmanager
def _logged_as(request_id: str | None) -> Iterator[None]:
    """Log lines inside carry `request_id` (common.logging's filter reads it)."""
    token = guid.set(request_id)
    try:
        yield
    finally:
        guid.reset(token)


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return max((code for code, _reply in exc.recipients.values()), default=None)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def _is_final(exc: Exception) -> bool:
    """A 5xx reply refuses this message for good (an unknown mailbox, a refused sender).
    Everything else may pass: a server that is down, slow or talks garbage, a 4xx, and
    refused credentials, which the operator fixes, and the queued mail then goes out."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False
    code = _smtp_code(exc)
    return code is not None and 500 <= code < 600
