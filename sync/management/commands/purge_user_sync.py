import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from common.db import statement_timeout
from sync.services import user_changes_purge

_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_age(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([dhm])", text.strip())
    if match is None:
        raise CommandError(f"--older-than takes e.g. 30d, 12h or 90m, not {text!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = (
        "Delete superseded change-queue rows older than the given age (each user's latest stays)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", required=True, help="e.g. 30d, 12h, 90m")

    def handle(self, *args: Any, older_than: str, **options: Any) -> None:
        # Months of a busy queue are millions of rows: more than a request may take.
        with statement_timeout(settings.DATABASE_COMMAND_STATEMENT_TIMEOUT_MS):
            deleted = user_changes_purge(older_than=parse_age(older_than), now=timezone.now())
        self.stdout.write(f"deleted {deleted} superseded changes")
