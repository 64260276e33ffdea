"""Helpers of the codes tests (the shared ones are in tests/helpers.py)."""

from __future__ import annotations

from codes.models import ReferralCode
from users.models import User


def active_codes(user: User) -> list[str]:
    """The strings of `user`'s active codes (one, or none)."""
    return list(
        ReferralCode.objects.filter(owner=user, is_active=True).values_list("code", flat=True)
    )


def active_code(user: User) -> ReferralCode:
    """`user`'s active code (sign-up issues exactly one)."""
    return ReferralCode.objects.get(owner=user, is_active=True)
