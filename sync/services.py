from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from django.db import transaction
from django.db.models import Exists, OuterRef
from rest_framework_api_key.models import APIKey

from sync.models import UserChange


def api_key_create(*, name: str, expiry_date: datetime | None = None) -> tuple[APIKey, str]:
    """A new key for the tree service; the raw key is returned once and only its hash kept."""
    # create_key builds the manager's model, an APIKey; the library annotates its abstract base.
    return cast(tuple[APIKey, str], APIKey.objects.create_key(name=name, expiry_date=expiry_date))


def user_changes_purge(*, older_than: timedelta, now: datetime, batch_size: int = 10_000) -> int:
    """Delete changes older than `older_than` that a later change of the same user
    supersedes; each user's latest change stays, so a poll without `since` still lists
    every user. Deletes in batches (short transactions on a large table); returns the count."""
    cutoff = now - older_than
    newer = UserChange.objects.filter(
        user_uuid=OuterRef("user_uuid"), queued_at__gt=OuterRef("queued_at")
    )
    superseded = UserChange.objects.filter(queued_at__lt=cutoff).filter(Exists(newer))
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(superseded.values_list("id", flat=True)[:batch_size])
            if not ids:
                return deleted
            deleted += UserChange.objects.filter(id__in=ids).delete()[0]
