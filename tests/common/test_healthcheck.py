from __future__ import annotations

import pytest
from django.db import connection
from pytest_django import Settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "post"])
def test_ok_when_database_and_cache_answer(api_client: APIClient, method: str) -> None:
    response = getattr(api_client, method)("/api/healthcheck/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "tasks": "ok"},
    }


def test_503_names_the_cache_when_it_is_unreachable(
    api_client: APIClient, settings: Settings
) -> None:
    # A Redis client pointed at a closed local port: a real connection failure.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }

    response = api_client.get("/api/healthcheck/")
    in_russian = api_client.get("/api/healthcheck/", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 503
    assert response.json()["type"] == "server_error"
    assert response.json()["errors"][0]["attr"] == "cache"
    assert response.json()["errors"][0]["detail"] == "The cache is unreachable."
    assert in_russian.json()["errors"][0]["detail"] == "Недоступен компонент: кэш."


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_503_names_the_database_when_it_is_unreachable(api_client: APIClient) -> None:
    # The connection's own settings pointed at a closed port: a real refused connection.
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = 1
    try:
        response = api_client.get("/api/healthcheck/")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    assert response.status_code == 503
    assert response.json()["errors"][0]["attr"] == "database"
