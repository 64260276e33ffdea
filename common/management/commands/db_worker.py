"""django-tasks-db's worker, which first queues again what a killed worker left running.

It replaces the backend's own `db_worker` (the app listed first in INSTALLED_APPS wins:
`common` comes before `django_tasks_db`), so compose, `make run` and an operator's
command line all start this one.
"""

from typing import Any

from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from common.tasks import tasks_reclaim_abandoned


class Command(db_worker.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        tasks_reclaim_abandoned(now=timezone.now())
        super().handle(*args, **options)
