"""Refused invite codes are counted per day and reason, for the dashboard, through every
door that redeems one: sign-up by email, phone sign-in and /me/referrer/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from codes.models import ReferralCode, RefusalDay
from codes.services import code_issue
from common.errors import DomainError
from referral.services import referrer_set
from tests.helpers import client_for
from tests.users.factories import UserFactory
from users.services.phone import phone_code_store, phone_sign_in

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password-1"


def counts() -> dict[tuple[str, str], int]:
    return {(f"{row.day:%Y-%m-%d}", row.reason): row.count for row in RefusalDay.objects.all()}


class TestRefusalsCountedAtEveryDoor:
    def test_the_count_outlives_the_refused_transaction(self, now: datetime) -> None:
        referee = UserFactory.create()

        with pytest.raises(DomainError):
            referrer_set(user=referee, code_value="NO-SUCH-CODE", now=now)

        assert counts() == {(f"{now:%Y-%m-%d}", "invalid"): 1}

    def test_a_sign_up_with_an_expired_code(self, api_client: APIClient, now: datetime) -> None:
        code = code_issue(owner=UserFactory.create(), live_days=1, now=now - timedelta(days=2))

        response = api_client.post(
            "/api/users/",
            {"email": "anna@example.com", "password": PASSWORD, "referral_code": code.code},
        )

        assert response.status_code == 400
        assert counts() == {(f"{datetime.now(UTC):%Y-%m-%d}", "expired"): 1}

    def test_a_referrer_set_that_would_close_a_cycle(self) -> None:
        root = UserFactory.create()
        below = UserFactory.create(
            referral_code=ReferralCode.objects.get(owner=root, is_active=True).code
        )
        own_downlines_code = ReferralCode.objects.get(owner=below, is_active=True).code

        response = client_for(root).post(
            "/api/users/me/referrer/", {"code": own_downlines_code}, format="json"
        )

        assert response.json()["errors"][0]["code"] == "cycle"
        assert counts() == {(f"{datetime.now(UTC):%Y-%m-%d}", "cycle"): 1}

    def test_a_phone_sign_in_with_a_used_up_code(self, now: datetime) -> None:
        code = code_issue(owner=UserFactory.create(), max_uses=1, now=now)
        UserFactory.create(referral_code=code.code)
        phone_code_store(phone="+79990001122", code="123456", now=now)

        with pytest.raises(DomainError):
            phone_sign_in(phone="+79990001122", code="123456", now=now, referral_code=code.code)

        assert counts() == {(f"{now:%Y-%m-%d}", "used_up"): 1}
