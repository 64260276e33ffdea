from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from common.cache import AtomicDatabaseCache, ReusingRedisCache
from tests.conftest import run_in_parallel


def kept_longer_than(backend: object, key: str, seconds: int) -> bool:
    """Whether the backend itself will keep `key` for more than `seconds`."""
    if isinstance(backend, ReusingRedisCache):
        return backend._cache.get_client().ttl(backend.make_key(key)) > seconds
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
