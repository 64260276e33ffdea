"""A poller that asks `since=<start of its previous poll>` never misses a change, even one
whose transaction began before a poll and committed after it (Postgres, real threads)."""

from __future__ import annotations

import random
import threading
from datetime import datetime
from uuid import UUID

import pytest
from django.db import connection, transaction

from sync.selectors import user_export_batch, user_sync_stream
from tests.users.factories import UserFactory
from users.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def db_now() -> datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def test_a_change_committing_after_a_poll_began_is_in_the_next_poll() -> None:
    user = UserFactory.create()
    written, poll_done = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(first_name="late")
            written.set()
            assert poll_done.wait(timeout=30)
        connection.close()

    before = db_now()
    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert written.wait(timeout=30)
    first_poll_start = db_now()  # the write happened before this instant
    first_poll = list(user_sync_stream(since=before))
    poll_done.set()
    writer.join(timeout=30)

    second_poll = list(user_sync_stream(since=first_poll_start))

    assert str(user.uuid) not in first_poll  # not committed yet: invisible to the first poll
    assert second_poll == [str(user.uuid)]  # …and not behind the second poll's `since`


def test_a_poller_mirrors_every_change_made_while_it_polls() -> None:
    users = [UserFactory.create() for _ in range(10)]
    mirror: dict[str, str] = {}

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        for step in range(40):
            # Two rows per transaction, so some stay open while others commit and polls
            # run; in id order, as any code locking several rows must.
            first, second = sorted(rng.sample(users, 2), key=lambda u: u.pk)
            with transaction.atomic():
                User.objects.filter(pk=first.pk).update(first_name=f"w{seed}-{step}")
                User.objects.filter(pk=second.pk).update(last_name=f"w{seed}-{step}")
        connection.close()

    def poll(since: datetime | None) -> datetime:
        start = db_now()
        changed = [UUID(value) for value in user_sync_stream(since=since)]
        for row in user_export_batch(uuids=changed):
            mirror[row["uuid"]] = row["first_name"]
        return start

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in writers:
        thread.start()
    since = poll(None)
    polls = 1
    while any(t.is_alive() for t in writers) and polls < 10_000:
        since = poll(since)
        polls += 1
    for thread in writers:
        thread.join(timeout=60)
    poll(since)

    truth = {str(u.uuid): u.first_name for u in User.objects.all()}
    assert polls > 3, "the writers finished before the poller could race them"
    assert mirror == truth
