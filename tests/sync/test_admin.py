"""The change queue's admin stays cheap however long the queue grows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sync.admin import EstimatedCountPaginator
from sync.models import UserChange
from tests.helpers import queued_uuids
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:sync_userchange_changelist")


def test_search_matches_an_exact_uuid(admin_client: Client) -> None:
    user = UserFactory.create()
    UserFactory.create()
    queued_uuids()  # fires the queue's deferred triggers

    found = admin_client.get(CHANGELIST, {"q": str(user.uuid).upper()})
    nothing = admin_client.get(CHANGELIST, {"q": str(user.uuid)[:8]})

    assert {change.user_uuid for change in found.context["cl"].result_list} == {user.uuid}
    assert (nothing.status_code, list(nothing.context["cl"].result_list)) == (200, [])


def test_the_unfiltered_queue_is_counted_from_statistics(postgres_only: None) -> None:
    UserFactory.create_batch(3)
    queued_uuids()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sync_userchange")

    with CaptureQueriesContext(connection) as queries:
        estimated = EstimatedCountPaginator(UserChange.objects.order_by("-queued_at"), 100).count

    assert estimated == UserChange.objects.count()
    assert "count(" not in " ".join(q["sql"].lower() for q in queries.captured_queries)


def test_a_filtered_list_is_counted_exactly() -> None:
    user = UserFactory.create()
    UserFactory.create()
    queued_uuids()

    filtered = UserChange.objects.filter(user_uuid=user.uuid).order_by("-queued_at")

    assert EstimatedCountPaginator(filtered, 100).count == filtered.count() >= 1
