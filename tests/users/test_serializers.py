from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from pytest_django import Settings
from rest_framework import serializers

from codes.models import ReferralCode
from codes.services import code_issue
from tests.users.factories import UserFactory
from users.selectors import user_profile_get
from users.serializers import PhoneTokenOutputSerializer, UserProfileOutputSerializer
from users.services.phone import phone_code_store, phone_sign_in


def rendered_by_fields(profile: object) -> dict:
    """What DRF renders from the declared fields, bypassing the hand-written override."""
    serializer = UserProfileOutputSerializer()
    return dict(serializers.Serializer.to_representation(serializer, profile))


@pytest.mark.django_db
class TestUserProfileOutputSerializer:
    def test_renders_what_the_declared_fields_render(self, now: datetime) -> None:
        referrer = UserFactory.create(username="anna")
        user = UserFactory.create(
            referral_code=ReferralCode.objects.get(owner=referrer).code,
            phone="+79990001122",
            middle_name="Petrovich",
            is_business_user=True,
        )
        expires_at = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
        code_issue(owner=user, now=now, value="WINTER26", expires_at=expires_at)
        UserFactory.create(referral_code="WINTER26")
        profile = user_profile_get(user=user)

        rendered = UserProfileOutputSerializer(profile).data

        assert rendered == rendered_by_fields(profile)
        assert rendered["referral_code"]["expires_at"] == "2031-01-02T03:04:05+00:00"
        assert rendered["referrals_count"] == 1

    def test_renders_missing_parts_as_the_contract_says(self, settings: Settings) -> None:
        settings.REFERRAL_CODE_ON_SIGNUP = False
        user = UserFactory.create(username=None, email=None, phone="+79990001122")
        user.phone = None
        profile = user_profile_get(user=user)

        rendered = UserProfileOutputSerializer(profile).data

        # Absent text is "", absent objects are null; the declared fields agree on the rest.
        assert (rendered["email"], rendered["username"], rendered["phone"]) == ("", "", "")
        assert rendered["referral_code"] is None
        assert rendered["referred_by"] is None
        by_fields = rendered_by_fields(profile)
        assert {k: v for k, v in rendered.items() if k not in {"email", "username", "phone"}} == {
            k: v for k, v in by_fields.items() if k not in {"email", "username", "phone"}
        }


@pytest.mark.django_db
class TestPhoneTokenOutputSerializer:
    def test_renders_what_the_declared_fields_document(self) -> None:
        phone_code_store(phone="+79991234567", code="123456", now=timezone.now())
        signed_in = phone_sign_in(phone="+79991234567", code="123456", now=timezone.now())
        serializer = PhoneTokenOutputSerializer()

        rendered = serializer.to_representation(signed_in)

        assert rendered == dict(serializers.Serializer.to_representation(serializer, signed_in))
        assert rendered["created"] is True
