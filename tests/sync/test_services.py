from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from rest_framework_api_key.models import APIKey

from sync.models import UserChange
from sync.services import api_key_create, user_changes_purge
from tests.helpers import queued_uuids
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


class TestApiKeyCreate:
    def test_returns_the_raw_key_once_and_keeps_only_its_hash(self, now: datetime) -> None:
        key, raw = api_key_create(name="tree-service", expiry_date=now + timedelta(days=1))

        stored = APIKey.objects.get(pk=key.pk)
        assert (stored.name, stored.expiry_date) == ("tree-service", now + timedelta(days=1))
        assert raw not in stored.hashed_key
        assert APIKey.objects.is_valid(raw)


class TestUserChangesPurge:
    def test_keeps_each_users_latest_change(self, now: datetime) -> None:
        user = UserFactory.create()
        queued_uuids()
        User.objects.filter(pk=user.pk).update(first_name="Again")
        queued_uuids()
        UserChange.objects.update(queued_at=now - timedelta(days=40))
        latest = UserChange.objects.order_by("-id").first()
        assert latest is not None
        UserChange.objects.filter(pk=latest.pk).update(queued_at=now - timedelta(days=39))

        deleted = user_changes_purge(older_than=timedelta(days=30), now=now)

        assert deleted == 1  # the creation row; the later update supersedes it
        assert list(UserChange.objects.values_list("pk", flat=True)) == [latest.pk]

    def test_keeps_a_superseded_change_younger_than_the_cutoff(self, now: datetime) -> None:
        user = UserFactory.create()
        queued_uuids()
        UserChange.objects.update(queued_at=now - timedelta(days=10))
        UserChange.objects.create(user_uuid=user.uuid, queued_at=now - timedelta(days=5))

        deleted = user_changes_purge(older_than=timedelta(days=30), now=now)

        assert deleted == 0
        assert UserChange.objects.filter(user_uuid=user.uuid).count() == 2

    def test_deletes_in_batches_until_none_is_left(self, now: datetime) -> None:
        user = UserFactory.create()
        queued_uuids()
        UserChange.objects.update(queued_at=now - timedelta(days=50))
        for days in (45, 44, 43):
            UserChange.objects.create(user_uuid=user.uuid, queued_at=now - timedelta(days=days))

        deleted = user_changes_purge(older_than=timedelta(days=30), now=now, batch_size=1)

        assert deleted == 3
        assert list(UserChange.objects.values_list("queued_at", flat=True)) == [
            now - timedelta(days=43)
        ]
