"""Helpers of the referral app's tests: referred sign-ups from a known client."""

from __future__ import annotations

from datetime import datetime

from codes.models import ReferralCode
from common.network import ClientFacts
from referral.models import ReferredSignup
from users.models import User
from users.services.accounts import user_create

HOME = ClientFacts(network="203.0.113.0/24", user_agent_hash="a" * 64)
ELSEWHERE = ClientFacts(network="198.51.100.0/24", user_agent_hash="b" * 64)


def code_of(user: User) -> ReferralCode:
    return ReferralCode.objects.get(owner=user, is_active=True)


def sign_up(code: ReferralCode, now: datetime, client: ClientFacts = HOME) -> ReferredSignup:
    """A phone sign-up with `code` from `client` at `now`."""
    phone = f"+7999{User.objects.count():07d}"
    user = user_create(
        email=None, phone=phone, password=None, now=now, referral_code=code.code, client=client
    )
    return ReferredSignup.objects.get(referee=user)
