from __future__ import annotations

import pytest
from rest_framework import serializers

from codes.models import ReferralCode
from referral.selectors import referral_list_direct
from referral.serializers import ReferralOutputSerializer
from tests.users.factories import UserFactory


@pytest.mark.django_db
class TestReferralOutputSerializer:
    def test_renders_what_the_declared_fields_render(self) -> None:
        referrer = UserFactory.create()
        UserFactory.create(
            referral_code=ReferralCode.objects.get(owner=referrer).code,
            username="boris",
            phone="+79990001122",
            first_name="Boris",
            last_name="Ivanov",
        )
        (row,) = referral_list_direct(user=referrer)[0:20]

        rendered = ReferralOutputSerializer(row).data

        by_fields = serializers.Serializer.to_representation(ReferralOutputSerializer(), row)
        assert rendered == dict(by_fields)
        assert rendered["code"] == ReferralCode.objects.get(owner=referrer).code

    def test_renders_missing_text_as_empty(self) -> None:
        referrer = UserFactory.create()
        UserFactory.create(
            referral_code=ReferralCode.objects.get(owner=referrer).code,
            username=None,
            email=None,
            phone="+79990001122",
        )
        (row,) = referral_list_direct(user=referrer)[0:20]
        row["code"] = None  # a referrer set by id, without a code
        row["phone"] = None  # the database keeps an email or a phone: one is left out here

        rendered = ReferralOutputSerializer(row).data

        assert (rendered["username"], rendered["email"], rendered["phone"], rendered["code"]) == (
            "",
            "",
            "",
            "",
        )
