"""Emails about accounts, sent by the task worker (common.emails)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django_tasks import TaskContext, task

from common.emails import TemplatedEmail, email_attempt
from users.emails import PASSWORD_RESET_EMAIL, LinkSite, password_reset_email_build
from users.errors import UserNotFoundError
from users.selectors import user_get_by_uuid


@task(takes_context=True)
def password_reset_email_deliver(
    context: TaskContext,
    *,
    user_uuid: str,
    protocol: str,
    domain: str,
    language: str,
    queued_at: str,
    attempt: int,
    request_id: str | None = None,  # None in tasks queued before it was recorded
) -> str:
    """One attempt at a password-reset email (users.services.passwords); `user_uuid` is
    empty for a request about an address that has no account."""
    return email_attempt(
        context=context,
        kind=PASSWORD_RESET_EMAIL,
        user_uuid=user_uuid,
        language=language,
        queued_at=queued_at,
        attempt=attempt,
        request_id=request_id,
        build=lambda: _reset_email(
            user_uuid=user_uuid, site=LinkSite(protocol, domain), attempt=attempt
        ),
        now=timezone.now(),
    )


def _reset_email(*, user_uuid: str, site: LinkSite, attempt: int) -> TemplatedEmail | None:
    """The reset email, if it may go: to a user who is still active with an email and a
    password (a reset is not how an account without one gets a password), and not within
    PASSWORD_RESET_EMAIL_INTERVAL of the last one to the same account (the anonymous
    endpoint must not flood an inbox). None for a request about no account."""
    if not user_uuid:
        return None
    try:
        user = user_get_by_uuid(uuid=user_uuid)
    except UserNotFoundError:
        return None
    if not (user.is_active and user.email and user.has_usable_password()):
        return None
    # Keyed by the account, so every spelling of the address shares one interval; `add`
    # is atomic, so of two workers one sends. A retry went through this at its first
    # attempt, and is not held back.
    interval_key = f"password-reset-sent:{user.uuid}"
    if attempt == 1 and not cache.add(
        interval_key, 1, timeout=settings.PASSWORD_RESET_EMAIL_INTERVAL
    ):
        return None
    return password_reset_email_build(user=user, site=site)
