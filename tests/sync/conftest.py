from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from sync.services import api_key_create


def queued_uuids() -> list[str]:
    """The change queue's user UUIDs, oldest first, after firing the deferred triggers of
    the current (test) transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    from sync.models import UserChange

    return [
        str(u)
        for u in UserChange.objects.order_by("queued_at", "id").values_list("user_uuid", flat=True)
    ]


@pytest.fixture
def api_key(db: None) -> tuple[APIKey, str]:
    return api_key_create(name="tree-service")


@pytest.fixture
def key_client(api_key: tuple[APIKey, str]) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key[1])
    return client


@pytest.fixture
def expired_key(db: None) -> str:
    return api_key_create(name="old", expiry_date=timezone.now() - timedelta(days=1))[1]
