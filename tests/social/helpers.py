"""Helpers of the social tests."""

from __future__ import annotations

from datetime import datetime

from social.models import SocialAccount
from social.services import social_account_link
from users.models import User


def link_many(user: User, count: int, now: datetime) -> list[SocialAccount]:
    """`count` GitHub accounts linked to `user` (https://github.com/u0, u1, …)."""
    return [
        social_account_link(user=user, network="github", link=f"https://github.com/u{n}", now=now)
        for n in range(count)
    ]
