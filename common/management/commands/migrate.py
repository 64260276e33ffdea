from typing import Any

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrateCommand

from common.db import statement_timeout


class Command(DjangoMigrateCommand):
    """Django's migrate, without the requests' statement timeout: building an index or
    rewriting rows of a large table takes longer than any request may."""

    def handle(self, *args: Any, **options: Any) -> Any:
        with statement_timeout(settings.DATABASE_COMMAND_STATEMENT_TIMEOUT_MS):
            return super().handle(*args, **options)
