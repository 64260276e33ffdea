from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import QuerySet

from social.errors import SocialAccountNotFoundError
from social.models import SocialAccount

if TYPE_CHECKING:
    from users.models import User


def social_account_list_for_user(*, user: User) -> QuerySet[SocialAccount]:
    """The user's linked accounts (at most MAX_ACCOUNTS_PER_USER), newest first."""
    return SocialAccount.objects.filter(user=user).order_by("-connected_at", "-id")


def social_account_get_for_user(*, user: User, uuid: UUID) -> SocialAccount:
    """One of the user's linked accounts. Raises SocialAccountNotFoundError for anyone
    else's (whose existence is not revealed)."""
    try:
        return SocialAccount.objects.get(user=user, uuid=uuid)
    except SocialAccount.DoesNotExist as exc:
        raise SocialAccountNotFoundError() from exc
