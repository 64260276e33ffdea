"""The task queue seen from outside: whether a worker is keeping up with it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max


def tasks_stale(*, now: datetime) -> bool:
    """Whether a task that is due has waited longer than TASKS_STALE_SECONDS: queued that
    long ago to run at once, or deferred to a moment that long past. Answered from the
    backend's partial index of ready tasks (tasks_db_new_ordering_idx), which holds only
    the backlog, so it stays cheap however many finished tasks the table keeps."""
    cutoff = now - timedelta(seconds=settings.TASKS_STALE_SECONDS)
    return (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        .filter(Q(run_after=get_date_max(), enqueued_at__lt=cutoff) | Q(run_after__lt=cutoff))
        .exists()
    )
