"""Emails about accounts, sent by the task worker (common.emails)."""

from __future__ import annotations

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
) -> str:
    """One attempt at a password-reset email (users.services.passwords)."""
    return email_attempt(
        context=context,
        kind=PASSWORD_RESET_EMAIL,
        user_uuid=user_uuid,
        language=language,
        queued_at=queued_at,
        attempt=attempt,
        build=lambda: _reset_email(user_uuid=user_uuid, site=LinkSite(protocol, domain)),
        now=timezone.now(),
    )


def _reset_email(*, user_uuid: str, site: LinkSite) -> TemplatedEmail | None:
    """The reset email, to whom it may still go: a user who is still active with an
    email and a password (a reset is not how an account without one gets a password)."""
    try:
        user = user_get_by_uuid(uuid=user_uuid)
    except UserNotFoundError:
        return None
    if not (user.is_active and user.email and user.has_usable_password()):
        return None
    return password_reset_email_build(user=user, site=site)
