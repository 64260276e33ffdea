"""The referral app's database constraints (the tree's own, on users_user, are pinned in
tests/users/test_models.py)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import IntegrityError, transaction

from codes.models import ReferralCode
from referral.models import ReferredSignup
from tests.helpers import invite
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db


def signup_row(now: datetime, **fields: object) -> dict[str, object]:
    referrer = UserFactory.create()
    values: dict[str, object] = {
        "referee": UserFactory.create(),  # no code: no row of its own yet
        "referrer": referrer,
        "code": ReferralCode.objects.get(owner=referrer),
        "created_at": now,
        "door": ReferredSignup.Door.SIGNUP,
        "network": "203.0.113.0/24",
        "is_same_network_as_referrer": False,
        "network_signups_last_hour": 1,
        "is_flagged": False,
    }
    values.update(fields)
    return values


class TestReferredSignupConstraints:
    def test_a_referee_has_one_row_at_most(self, now: datetime) -> None:
        referee = invite(UserFactory.create())  # its sign-up kept its row
        assert ReferredSignup.objects.filter(referee=referee).exists()

        with pytest.raises(IntegrityError), transaction.atomic():
            ReferredSignup.objects.create(**signup_row(now, referee=referee))

    def test_the_sign_up_count_is_not_negative(self, now: datetime) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            ReferredSignup.objects.create(**signup_row(now, network_signups_last_hour=-1))
