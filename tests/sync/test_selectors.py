from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from sync.models import UserChange
from sync.selectors import (
    change_queue_stats,
    user_export_batch,
    user_export_get,
    user_sync_page,
    user_sync_stream,
)
from tests.helpers import queued_uuids
from tests.users.factories import UserFactory
from users.errors import UserNotFoundError
from users.models import User
from users.services.lifecycle import user_erase

pytestmark = pytest.mark.django_db

EARLY, LATE = datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 2, tzinfo=UTC)


class TestUserSyncStream:
    def test_lists_each_changed_user_once_by_latest_change(self) -> None:
        changed_last, changed_first = UserFactory.create(), UserFactory.create()
        queued_uuids()
        UserChange.objects.filter(user_uuid=changed_last.uuid).update(queued_at=EARLY)
        UserChange.objects.filter(user_uuid=changed_first.uuid).update(queued_at=EARLY)
        UserChange.objects.create(user_uuid=changed_last.uuid, queued_at=LATE)

        streamed = list(user_sync_stream(since=None))

        assert streamed == [str(changed_first.uuid), str(changed_last.uuid)]

    def test_leaves_out_changes_before_since(self) -> None:
        old, new = UserFactory.create(), UserFactory.create()
        queued_uuids()
        UserChange.objects.filter(user_uuid=old.uuid).update(queued_at=EARLY)
        UserChange.objects.filter(user_uuid=new.uuid).update(queued_at=LATE)

        streamed = list(user_sync_stream(since=LATE))

        assert streamed == [str(new.uuid)]


class TestUserSyncPage:
    def test_continues_after_the_position_it_returned(self) -> None:
        first, second = UserFactory.create(), UserFactory.create()
        queued_uuids()
        UserChange.objects.filter(user_uuid=first.uuid).update(queued_at=EARLY)
        UserChange.objects.filter(user_uuid=second.uuid).update(queued_at=LATE)

        page, after = user_sync_page(since=None, limit=1, after=None)
        last_page, end = user_sync_page(since=None, limit=1, after=after)

        assert (page, after) == ([first.uuid], (EARLY, first.uuid))
        assert (last_page, end) == ([second.uuid], None)


class TestUserExportGet:
    def test_refuses_an_unknown_user(self) -> None:
        with pytest.raises(UserNotFoundError):
            user_export_get(uuid=uuid.uuid4())

    def test_refuses_an_erased_user(self, now: datetime) -> None:
        erased = UserFactory.create()
        user_erase(user=erased, now=now)

        with pytest.raises(UserNotFoundError):
            user_export_get(uuid=erased.uuid)


class TestUserExportBatch:
    def test_answers_in_the_order_asked_each_once_without_the_missing_or_erased(
        self, now: datetime
    ) -> None:
        first, second, erased = UserFactory.create_batch(3)
        user_erase(user=User.objects.get(pk=erased.pk), now=now)

        rows = user_export_batch(
            uuids=[second.uuid, uuid.uuid4(), erased.uuid, first.uuid, second.uuid]
        )

        assert [row["uuid"] for row in rows] == [str(second.uuid), str(first.uuid)]


class TestChangeQueueStats:
    def test_an_empty_queue_has_no_rows_and_no_ends(self) -> None:
        stats = change_queue_stats()

        assert (stats.rows, stats.oldest_at, stats.newest_at) == (0, None, None)

    def test_shows_both_ends_of_the_queue(self) -> None:
        user = UserFactory.create()
        queued_uuids()
        UserChange.objects.update(queued_at=EARLY)
        UserChange.objects.create(user_uuid=user.uuid, queued_at=LATE)

        stats = change_queue_stats()

        assert (stats.oldest_at, stats.newest_at) == (EARLY, LATE)
