"""The task queue run for real in a test, on the test database: the database backend's
own worker pieces, in-process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction


def run_tasks() -> int:
    """Run every task that is due, one by one, as `manage.py db_worker --batch` does
    (tasks they queue included, once due); returns how many ran.

    The worker's own loop (Worker.run) is this plus close_old_connections() around each
    task, which would close the connection a test's transaction lives on; the command
    itself is run in tests/common/test_tasks.py."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    ran = 0
    while True:
        with exclusive_transaction():
            task = (
                DBTaskResult.objects.ready()
                .filter(backend_name="default", queue_name="default")
                .get_locked()
            )
            if task is None:
                return ran
            task.claim(worker.worker_id)
        worker.run_task(task)
        ran += 1


def deferred_tasks_due(*, now: datetime) -> int:
    """Time as an input: the tasks deferred past `now` become due at `now`, as if the
    clock had reached them. Returns how many."""
    deferred = DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after__gt=now)
    return deferred.exclude(run_after=get_date_max()).update(run_after=now)


@contextmanager
def task_inserts_refused() -> Iterator[None]:
    """The database refuses to store a task, with an OperationalError as when it is out
    of disk (Postgres: a trigger raising disk_full) or has lost the table (SQLite, which
    has no trigger error of that class). Undone on leaving, within the test's transaction."""
    table = DBTaskResult._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse_task() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'no space left' USING ERRCODE = 'disk_full'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER test_refuse_task BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_task()"
            )
        else:
            cursor.execute(f"ALTER TABLE {table} RENAME TO test_refused_tasks")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER test_refuse_task ON {table}")
                cursor.execute("DROP FUNCTION test_refuse_task()")
            else:
                cursor.execute(f"ALTER TABLE test_refused_tasks RENAME TO {table}")
