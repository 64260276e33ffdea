"""A database or cache that stops answering (its proxy frozen with SIGSTOP) makes
requests answer 503 within the timeouts, and the healthcheck name the failing check.
Each request is bounded by the timeouts alone: no test waits a fixed time.

Real gunicorn serves the project, as production does, with short timeouts: connecting
2 s (psycopg's least), a statement 1 s, Redis 2 s (its fixed socket timeouts)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction

from common.db import statement_timeout
from tests.servers import LiveGunicorn, live_gunicorn, tcp_proxy

pytestmark = pytest.mark.django_db

CONNECT_S, STATEMENT_MS = 2, 1000
# Reusing a connection checks it first (a connect timeout), then connects anew (another).
DATABASE_BOUND_S = 2 * CONNECT_S + STATEMENT_MS / 1000 + 2
CACHE_BOUND_S = 2 + 2  # a Redis socket timeout, and slack
FAST = {"THROTTLE_ANON": "100000/min", "THROTTLE_LOGIN": "100000/min"}
LOGIN = {"email": "nobody@example.com", "password": "wrong-password"}


def timed(server: LiveGunicorn, path: str, **kwargs: Any) -> tuple[float, int, Any]:
    started = time.monotonic()
    status, body = server.request(path, **kwargs)
    return time.monotonic() - started, status, body


def outage_lines(log: Path, kind: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("dependency") == kind]


def assert_unavailable(answer: tuple[float, int, Any], bound: float, attr: str | None) -> None:
    elapsed, status, body = answer
    assert status == 503, body
    assert body["type"] == "server_error" and body["errors"][0]["attr"] == attr
    assert elapsed < bound, f"{elapsed:.1f} s"


@pytest.fixture
def postgres_url() -> str:
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres behind a TCP proxy")
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{{host}}:{{port}}/{db['NAME']}"


def test_a_hung_database_answers_503_within_the_timeout(postgres_url: str, tmp_path: Path) -> None:
    db = connection.settings_dict
    log = tmp_path / "stdout.log"
    with (
        tcp_proxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)) as freeze,
        log.open("w") as stdout,
    ):
        env = {
            "DATABASE_URL": postgres_url.format(host="127.0.0.1", port=freeze.port),  # type: ignore[attr-defined]
            "DJANGO_DB_CONNECT_TIMEOUT": str(CONNECT_S),
            "DJANGO_DB_STATEMENT_TIMEOUT_MS": str(STATEMENT_MS),
            **({"REDIS_URL": settings.REDIS_URL} if settings.REDIS_URL else {}),
            **FAST,
        }
        with live_gunicorn(env=env, stdout=stdout) as server:
            assert server.request("/api/healthcheck/")[0] == 200  # a connection to reuse
            freeze(True)

            login = timed(server, "/api/auth/jwt/create/", body=LOGIN)
            health = timed(server, "/api/healthcheck/")
            freeze(False)
            recovered = server.request("/api/auth/jwt/create/", body=LOGIN)[0]

    assert_unavailable(login, DATABASE_BOUND_S, None)
    assert_unavailable(health, DATABASE_BOUND_S, "database")
    assert recovered == 401
    # Two failed requests, one line (LOG_DEPENDENCY_FAILURE_SECONDS), no traceback each.
    assert len(outage_lines(log, "database")) == 1


def test_postgres_cancels_a_statement_past_its_limit(postgres_url: str) -> None:
    with (
        pytest.raises(OperationalError),
        statement_timeout(100),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT pg_sleep(2)")


def test_a_longer_limit_holds_for_its_block_only(postgres_url: str) -> None:
    def limit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            return cursor.fetchone()[0]

    with statement_timeout(60_000):
        inside = limit()

    assert (inside, limit()) == ("1min", "5s")  # DJANGO_DB_STATEMENT_TIMEOUT_MS's default


@pytest.fixture
def redis_address(postgres_url: str) -> tuple[str, int, str]:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis behind a TCP proxy")
    url = urlparse(settings.REDIS_URL)
    return url.hostname or "127.0.0.1", url.port or 6379, url.path or "/0"


def test_a_hung_cache_answers_503_within_the_timeout(
    redis_address: tuple[str, int, str], postgres_url: str
) -> None:
    host, port, database = redis_address
    db = connection.settings_dict
    with tcp_proxy(host, port) as freeze:
        env: dict[str, str] = {
            "DATABASE_URL": postgres_url.format(
                host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
            ),
            "REDIS_URL": f"redis://127.0.0.1:{freeze.port}{database}",  # type: ignore[attr-defined]
            **FAST,
        }
        with live_gunicorn(env=env) as server:
            assert server.request("/api/healthcheck/")[0] == 200
            freeze(True)

            lookup = timed(server, "/api/referral-codes/ABCD1234/")
            health = timed(server, "/api/healthcheck/")
            freeze(False)
            recovered = server.request("/api/healthcheck/")[0]

    assert_unavailable(lookup, CACHE_BOUND_S, None)
    assert_unavailable(health, CACHE_BOUND_S, "cache")
    assert recovered == 200
