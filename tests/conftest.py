from __future__ import annotations

import json
import logging.config
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from pytest_django import Settings
from rest_framework.test import APIClient

from common.logging import logging_config
from tests.helpers import client_for
from tests.servers import FakeHttpService, FakeSmtpService, serve_http, serve_smtp
from tests.users.factories import UserFactory
from users.models import User

pytest_plugins = ["tests.browser"]  # browser, browser_page

DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


@pytest.fixture(autouse=True)
def _isolated_cache(request: pytest.FixtureRequest, django_db_blocker: Any) -> None:
    """Every test that can reach the database starts with an empty cache (throttle
    counters, code lookups, Hunter). Tests without database access cannot use the
    embedded default's cache, and may not find its table: an in-memory SQLite test
    database is gone once no test holds a connection to it."""
    uses_db = request.node.get_closest_marker("django_db") or DB_FIXTURES & set(
        request.fixturenames
    )
    if not uses_db:
        return
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():
        cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Django's LocaleMiddleware leaves a request's language active in the thread: after a
    request in Russian, the next test on this worker would render emails in Russian."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def json_log(tmp_path: Path) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Logging as the settings configure it, at DEBUG, with LOG_FILE set: returns a
    function that reads the JSON lines written to the file so far."""
    log_file = tmp_path / "app.log"
    logging.config.dictConfig(logging_config(level="DEBUG", file=str(log_file)))

    def lines() -> list[dict[str, Any]]:
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = log_file.read_text() if log_file.exists() else ""
        return [json.loads(line) for line in text.splitlines()]

    yield lines
    logging.config.dictConfig(django_settings.LOGGING)


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def auth_client(user: User) -> APIClient:
    return client_for(user)


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres row and advisory locks (SQLite serializes writers)")


@pytest.fixture
def fake_http() -> Iterator[FakeHttpService]:
    """A real HTTP server on 127.0.0.1 recording requests; `should_hang` makes it hold
    the request open (until teardown) so clients meet their own timeout."""
    with serve_http() as service:
        yield service


@pytest.fixture
def fake_smtp(settings: Settings) -> Iterator[FakeSmtpService]:
    """A real SMTP server on 127.0.0.1, with Django's SMTP backend pointed at it."""
    with serve_smtp() as service:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = service.host, service.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER, settings.EMAIL_TIMEOUT = "", 0.5
        yield service


@pytest.fixture
def admin_client(client: Client) -> Client:
    """The Django test client signed in to the admin as a superuser (pytest-django's own
    fixture expects a username field; ours signs in by email)."""
    client.force_login(
        User.objects.create_superuser(email="superuser@example.com", password="pw-1234")
    )
    return client
