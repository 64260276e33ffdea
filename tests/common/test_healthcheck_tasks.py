"""The healthcheck's `tasks` check: 503 `stale` once a task that is due has waited longer
than TASKS_STALE_SECONDS, which is what an operator sees when no worker runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from codes.services import code_email_send
from common.tasks import tasks_stale
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/healthcheck/"


def queue_one(**changes: datetime | TaskResultStatus) -> DBTaskResult:
    """A queued email task with `changes` (enqueued_at, run_after, status) to its row."""
    code_email_send(owner=UserFactory.create(), language="en", now=timezone.now())
    task = DBTaskResult.objects.latest("enqueued_at")
    DBTaskResult.objects.filter(pk=task.pk).update(**changes)
    return task


class TestTasksCheck:
    def test_ok_while_queued_tasks_are_fresh(self, api_client: APIClient) -> None:
        queue_one()

        response = api_client.get(URL)

        assert response.status_code == 200
        assert response.json()["checks"]["tasks"] == "ok"

    def test_503_stale_when_a_task_has_waited_past_the_limit(
        self, api_client: APIClient, settings: Any
    ) -> None:
        settings.TASKS_STALE_SECONDS = 60
        queue_one(enqueued_at=timezone.now() - timedelta(seconds=61))

        response = api_client.get(URL)
        in_russian = api_client.get(URL, HTTP_ACCEPT_LANGUAGE="ru")

        assert response.status_code == 503
        assert response.json() == {
            "type": "server_error",
            "errors": [
                {
                    "code": "stale",
                    "detail": "Queued tasks have waited too long: is the task worker running?",
                    "attr": "tasks",
                }
            ],
        }
        assert in_russian.json()["errors"][0]["detail"].startswith("Задачи в очереди")

    def test_a_retry_deferred_to_later_is_not_stale_however_old(self) -> None:
        now = timezone.now()
        queue_one(enqueued_at=now - timedelta(hours=5), run_after=now + timedelta(minutes=30))

        assert tasks_stale(now=now) is False

    def test_a_deferred_task_is_stale_once_due_for_longer_than_the_limit(self) -> None:
        now = timezone.now()
        queue_one(enqueued_at=now - timedelta(hours=5), run_after=now - timedelta(seconds=299))

        assert tasks_stale(now=now) is False
        assert tasks_stale(now=now + timedelta(seconds=2)) is True

    @pytest.mark.parametrize("status", [TaskResultStatus.SUCCESSFUL, TaskResultStatus.RUNNING])
    def test_tasks_taken_by_a_worker_do_not_count(self, status: TaskResultStatus) -> None:
        now = timezone.now()
        queue_one(enqueued_at=now - timedelta(hours=5), status=status)

        assert tasks_stale(now=now) is False

    @pytest.mark.usefixtures("postgres_only")
    def test_reads_the_partial_index_of_ready_tasks(self) -> None:
        """The check stays cheap beside millions of finished tasks: its query is one the
        backend's partial index of ready tasks answers (sequential scans priced out, so
        the plan shows what can serve it, not what a near-empty table prefers)."""
        queue_one()
        with CaptureQueriesContext(connection) as queries:
            tasks_stale(now=timezone.now())
        [query] = queries.captured_queries

        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {query['sql']}")
            plan = "\n".join(row[0] for row in cursor.fetchall())

        assert "tasks_db_new_ordering_idx" in plan
