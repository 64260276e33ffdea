from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from sync.services import api_key_create


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
