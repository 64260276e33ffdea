"""Emails about codes, sent by the task worker (common.emails)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import TaskContext, task

from codes.models import ReferralCode
from common.emails import TemplatedEmail, email_attempt, email_render

REFERRAL_CODE_EMAIL = "referral_code"


@task(takes_context=True)
def code_email_deliver(
    context: TaskContext,
    *,
    user_uuid: str,
    code: str,
    language: str,
    queued_at: str,
    attempt: int,
    request_id: str | None = None,  # None in tasks queued before it was recorded
) -> str:
    """One attempt at emailing a user one of their codes (codes.services.code_email_send)."""
    return email_attempt(
        context=context,
        kind=REFERRAL_CODE_EMAIL,
        user_uuid=user_uuid,
        language=language,
        queued_at=queued_at,
        attempt=attempt,
        request_id=request_id,
        build=lambda: code_email_build(user_uuid=user_uuid, code=code),
        now=timezone.now(),
    )


def code_email_build(*, user_uuid: str, code: str) -> TemplatedEmail | None:
    """The email of `code` (its expiry and share link as they are now) to its owner's
    address; None when there is nobody to send it to any more: the owner is gone,
    inactive or without an email, or the code was deleted."""
    found = (
        ReferralCode.objects.select_related("owner")
        .filter(code=code, owner__uuid=user_uuid, deleted_at__isnull=True)
        .first()
    )
    if found is None or not found.owner.is_active or not found.owner.email:
        return None
    return email_render(
        template=REFERRAL_CODE_EMAIL,
        context={"code": found.code, "expires_at": found.expires_at, "share_url": found.share_url},
        to=found.owner.email,
        sensitive=[found.code],
    )
