"""common.admin.IsSetListFilter through the admin lists that use it: erased users and
deleted codes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from codes.models import ReferralCode
from tests.users.factories import UserFactory
from users.services.lifecycle import user_erase

pytestmark = pytest.mark.django_db


def listed_pks(response: object) -> set[int]:
    return {row.pk for row in response.context["cl"].result_list}  # type: ignore[attr-defined]


class TestIsSetListFilter:
    def test_splits_the_user_list_into_erased_and_not(self, admin_client: Client) -> None:
        kept, erased = UserFactory.create(), UserFactory.create()
        user_erase(user=erased, now=timezone.now())
        url = reverse("admin:users_user_changelist")

        only_erased = admin_client.get(url, {"erased": "yes"})
        not_erased = admin_client.get(url, {"erased": "no"})
        everyone = admin_client.get(url)

        assert listed_pks(only_erased) == {erased.pk}
        assert kept.pk in listed_pks(not_erased) and erased.pk not in listed_pks(not_erased)
        assert {kept.pk, erased.pk} <= listed_pks(everyone)

    def test_splits_the_code_list_into_deleted_and_not(self, admin_client: Client) -> None:
        owner = UserFactory.create()
        live = ReferralCode.objects.get(owner=owner)
        gone = ReferralCode.objects.create(
            owner=owner, code="GONE2345", is_active=False, deleted_at=timezone.now()
        )
        url = reverse("admin:codes_referralcode_changelist")

        deleted = admin_client.get(url, {"deleted": "yes"})
        kept = admin_client.get(url, {"deleted": "no"})

        assert listed_pks(deleted) == {gone.pk}
        assert listed_pks(kept) == {live.pk}
