from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from sync.services import api_key_create


class Command(BaseCommand):
    help = "Create an X-API-Key for the tree service and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who the key is for, e.g. 'tree-service'.")
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, *args: Any, name: str, expires_in_days: int | None, **options: Any) -> None:
        expiry = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        _api_key, raw_key = api_key_create(name=name, expiry_date=expiry)
        self.stdout.write(raw_key)
