"""The task queue seen from outside: whether a worker is keeping up with it, and the
tasks a worker that died left behind."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

logger = logging.getLogger(__name__)


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


def tasks_reclaim_abandoned(*, now: datetime) -> int:
    """Put back in the queue every task claimed more than TASKS_RUNNING_TIMEOUT seconds
    ago and still running: its worker was killed (SIGKILL, a crash, a lost host) before
    it could finish or even fail it, and the backend would leave it running for ever.
    Returns how many. A task may then run twice (the first run may have got further than
    its worker reported); the emails' tasks are built for that: an email sent twice
    beats one never sent."""
    cutoff = now - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT)
    reclaimed = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=cutoff
    ).update(status=TaskResultStatus.READY, started_at=None)
    if reclaimed:
        logger.warning("Abandoned tasks queued again", extra={"task_count": reclaimed})
    return reclaimed
