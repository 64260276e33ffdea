"""Linked social accounts: link, change the reason, unlink."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from common.db import violated_constraint
from social.errors import SocialAccountLimitError, SocialLinkTakenError
from social.links import link_normalize
from social.models import MAX_ACCOUNTS_PER_USER, SocialAccount
from users.errors import UserNotFoundError
from users.models import User

# How Postgres and SQLite name the unique constraint on the link.
_LINK_UNIQUE = {"social_account_link_unique": "link", "social_socialaccount.link": "link"}


def social_account_limit_check(*, user: User) -> None:
    """Raise SocialAccountLimitError if `user` has MAX_ACCOUNTS_PER_USER accounts linked."""
    if SocialAccount.objects.filter(user=user).count() >= MAX_ACCOUNTS_PER_USER:
        raise SocialAccountLimitError()


@transaction.atomic
def social_account_link(
    *, user: User, network: str, link: str, now: datetime, reason: str = ""
) -> SocialAccount:
    """Link an account of `user`'s by its profile link (normalized: social.links). At most
    MAX_ACCOUNTS_PER_USER per user, also under concurrent requests: they count under the
    user's row lock. Raises SocialLinkInvalidError, SocialLinkNetworkMismatchError,
    SocialLinkTakenError (anyone's already), SocialAccountLimitError, and
    UserNotFoundError for a user erased meanwhile."""
    normalized = link_normalize(network=network, link=link)
    # The user's row lock serializes this user's links (and waits for an erasure, which
    # deletes them, to commit); the count under it is the one the insert is held to.
    locked = User.objects.select_for_update(no_key=True).filter(pk=user.pk, erased_at__isnull=True)
    if not list(locked.values_list("pk", flat=True)):
        raise UserNotFoundError()
    social_account_limit_check(user=user)
    try:
        with transaction.atomic():
            return SocialAccount.objects.create(
                user=user, network=network, link=normalized, reason=reason, connected_at=now
            )
    except IntegrityError as exc:
        if violated_constraint(exc, _LINK_UNIQUE) is None:
            raise
        raise SocialLinkTakenError() from exc


@transaction.atomic
def social_account_update(*, account: SocialAccount, reason: str) -> SocialAccount:
    """Change why the account is linked; network and link never change."""
    account.reason = reason
    account.save(update_fields=["reason"])
    return account


@transaction.atomic
def social_account_unlink(*, account: SocialAccount) -> None:
    SocialAccount.objects.filter(pk=account.pk).delete()


@transaction.atomic
def social_accounts_unlink_all(*, user: User) -> int:
    """Unlink every account of `user` (their erasure); returns how many."""
    deleted, _by_model = SocialAccount.objects.filter(user=user).delete()
    return deleted
