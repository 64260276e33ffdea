from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from common.cache import AtomicDatabaseCache, ReusingRedisCache, count_in_window
from tests.helpers import run_in_parallel


def kept_longer_than(backend: object, key: str, seconds: int) -> bool:
    """Whether the backend itself will keep `key` for more than `seconds`."""
    if isinstance(backend, ReusingRedisCache):
        # RedisCache._cache, Django's private client, is absent from django-stubs.
        return backend._cache.get_client().ttl(backend.make_key(key)) > seconds  # type: ignore[attr-defined]
    assert isinstance(backend, AtomicDatabaseCache)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM django_cache WHERE cache_key = %s AND expires > %s",
            [backend.make_key(key), timezone.now() + timedelta(seconds=seconds)],
        )
        return cursor.fetchone()[0] == 1


@pytest.fixture
def database_cache(settings: Any) -> AtomicDatabaseCache:
    """The database cache, also where the default cache is Redis (its table made here)."""
    settings.CACHES = {
        **settings.CACHES,
        "database": {"BACKEND": "common.cache.AtomicDatabaseCache", "LOCATION": "django_cache"},
    }
    call_command("createcachetable", database="default", verbosity=0)
    backend = caches["database"]
    assert isinstance(backend, AtomicDatabaseCache)
    backend.clear()
    return backend


@pytest.mark.django_db
class TestDefaultCacheIncr:
    """The configured backend: Redis in CI's first run, the database cache in its second."""

    def test_adds_to_the_stored_number(self) -> None:
        cache.add("counter", 5, timeout=60)

        assert cache.incr("counter") == 6
        assert cache.incr("counter", 10) == 16
        assert cache.decr("counter") == 15
        assert cache.get("counter") == 15

    def test_refuses_a_missing_key(self) -> None:
        with pytest.raises(ValueError, match="not found"):
            cache.incr("no-such-counter")

        assert cache.get("no-such-counter") is None

    def test_keeps_the_expiry(self) -> None:
        cache.add("hourly", 1, timeout=7200)

        cache.incr("hourly")

        # Django's database cache would have reset it to the 300 s default.
        assert kept_longer_than(caches["default"], "hourly", 7000)


@pytest.mark.django_db
class TestCountInWindow:
    """On the configured backend (one Lua script on Redis) and on the database cache."""

    @pytest.fixture(params=["default", "database"])
    def backend(self, request: pytest.FixtureRequest) -> Any:
        if request.param == "database":
            return request.getfixturevalue("database_cache")
        return caches["default"]

    def test_creates_then_counts_the_window_with_its_expiry(self, backend: Any) -> None:
        assert count_in_window(backend, "window:2", "window:1", timeout=7200) == (1, 0)
        assert count_in_window(backend, "window:2", "window:1", timeout=7200) == (2, 0)

        assert backend.get("window:2") == 2
        assert kept_longer_than(backend, "window:2", 7000)

    def test_reads_the_previous_window(self, backend: Any) -> None:
        backend.set("window:1", 41, timeout=60)
        backend.set("window:2", 6, timeout=60)

        assert count_in_window(backend, "window:2", "window:1", timeout=7200) == (7, 41)
        assert backend.get("window:1") == 41
        # An existing window keeps the expiry it was created with.
        assert not kept_longer_than(backend, "window:2", 60)

    def test_the_default_cache_proxy_takes_the_backends_own_path(self) -> None:
        # DRF's throttles hold django.core.cache.cache, a proxy of the default backend.
        assert count_in_window(cache, "proxy:2", "proxy:1", timeout=60) == (1, 0)
        assert getattr(cache, "count_in_window", None) == getattr(
            caches["default"], "count_in_window", None
        )

    @pytest.mark.django_db(transaction=True)
    @pytest.mark.usefixtures("postgres_only")
    def test_parallel_requests_are_all_counted(self, backend: Any) -> None:
        results = run_in_parallel(
            [lambda: count_in_window(backend, "busy:2", "busy:1", timeout=60) for _ in range(20)]
        )

        assert sorted(current for current, _ in results) == list(range(1, 21))
        assert backend.get("busy:2") == 20


@pytest.mark.django_db
class TestAtomicDatabaseCache:
    def test_refuses_an_expired_key(self, database_cache: AtomicDatabaseCache) -> None:
        database_cache.add("stale", 1, timeout=60)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE django_cache SET expires = %s WHERE cache_key = %s",
                [timezone.now() - timedelta(seconds=1), database_cache.make_key("stale")],
            )

        with pytest.raises(ValueError, match="not found"):
            database_cache.incr("stale")

    def test_keeps_the_expiry(self, database_cache: AtomicDatabaseCache) -> None:
        database_cache.add("hourly", 1, timeout=7200)

        assert database_cache.incr("hourly") == 2
        assert kept_longer_than(database_cache, "hourly", 7000)

    @pytest.mark.django_db(transaction=True)
    @pytest.mark.usefixtures("postgres_only")
    def test_parallel_increments_are_all_kept(self, database_cache: AtomicDatabaseCache) -> None:
        database_cache.set("shared", 0, timeout=60)

        results = run_in_parallel([lambda: database_cache.incr("shared") for _ in range(20)])

        assert sorted(results) == list(range(1, 21))
        assert database_cache.get("shared") == 20
