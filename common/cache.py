"""Django's cache backends, with the throttles' `incr` atomic and cheap.

Redis: Django's Redis cache, reusing one redis-py client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call, and building
one fills a table of ~170 response callbacks: about 0.4 ms of CPU a call, and a request
makes three (throttle read and write, plus a lookup). A client is a thin, thread-safe
handle on its pool, so one per pool is enough.

Its `incr` also asks Redis once instead of twice (EXISTS, then INCRBY), and
`count_in_window` does all of a throttle's cache work for a request in one round trip.

The private API of Django's cache backends used here (RedisCacheClient's connection pools,
client class and serializer, RedisCache's client, DatabaseCache's table) is absent from
django-stubs, hence the attr-defined ignores.
"""

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import connections, models, router, transaction
from django.utils import timezone

from common.metrics import CacheMetricsMixin


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._incr_script: Any = None
        self._window_script: Any = None

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(  # type: ignore[attr-defined]
                connection_pool=self._get_connection_pool(write)  # type: ignore[attr-defined]
            )
        return client

    def incr(self, key: Any, delta: int) -> int:
        client = self.get_client(key, write=True)
        if self._incr_script is None:
            # EVALSHA, sending the script itself only when Redis does not know it yet.
            self._incr_script = client.register_script(_INCR_EXISTING)
        value = self._incr_script(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")  # as Django's incr does
        return int(value)

    def count_in_window(self, key: Any, previous_key: Any, timeout: int) -> tuple[int, int]:
        client = self.get_client(key, write=True)
        if self._window_script is None:
            self._window_script = client.register_script(_COUNT_IN_WINDOW)
        current, previous = self._window_script(
            keys=[key, previous_key], args=[timeout], client=client
        )
        return int(current), (0 if previous is None else int(self._serializer.loads(previous)))  # type: ignore[attr-defined]


# INCRBY that, like Django's cache API, refuses to create a missing key, in one round trip.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


# count_in_window: bump (or create, with its expiry) this window's counter and read the
# previous window's, atomically.
_COUNT_IN_WINDOW = """
local current = 1
if redis.call('EXISTS', KEYS[1]) == 1 then
  current = redis.call('INCRBY', KEYS[1], 1)
else
  redis.call('SET', KEYS[1], 1, 'EX', ARGV[1])
end
return {current, redis.call('GET', KEYS[2])}
"""


class ReusingRedisCache(CacheMetricsMixin, RedisCache):
    metrics_backend = "redis"

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def count_in_window(self, key: str, previous_key: str, timeout: int) -> tuple[int, int]:
        return self._cache.count_in_window(  # type: ignore[attr-defined]
            self.make_and_validate_key(key), self.make_and_validate_key(previous_key), timeout
        )


def count_in_window(cache: Any, key: str, previous_key: str, timeout: int) -> tuple[int, int]:
    """Count one more request in the window counter `key`, created to live `timeout`
    seconds if missing, and read the counter `previous_key` (0 if missing): a sliding
    window throttle's cache work for a request. Atomic and one round trip on
    ReusingRedisCache; `incr`, `add` and `get` on any other cache.

    `cache` may be `django.core.cache.cache`, a proxy of the default backend (as DRF's
    throttles hold it), hence no isinstance check."""
    own = getattr(cache, "count_in_window", None)
    if own is not None:
        return own(key, previous_key, timeout)
    try:
        current = cache.incr(key)
    except ValueError:
        # Another request may have created it meanwhile.
        current = 1 if cache.add(key, 1, timeout=timeout) else cache.incr(key)
    return current, cache.get(previous_key, 0)


class AtomicDatabaseCache(CacheMetricsMixin, DatabaseCache):
    """Django's database cache with an `incr` that is atomic and keeps the entry's expiry.

    Django's own is a `get` then a `set`: two workers incrementing at once both write the
    same count, and the `set` resets the expiry to the default timeout, which would end an
    hourly throttle window after five minutes.
    """

    metrics_backend = "database"

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)  # type: ignore[attr-defined]
        # SQLite takes its write lock at BEGIN (settings: transaction_mode IMMEDIATE).
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT value, expires FROM {table} WHERE cache_key = %s{lock}",  # noqa: S608
                [key],
            )
            row = cursor.fetchone()
            if row is None or self._expired(connection, row[1]):
                raise ValueError(f"Key '{key}' not found.")  # as Django's incr does
            # Only this backend writes the table, as with Django's own get().
            value = pickle.loads(  # noqa: S301
                base64.b64decode(connection.ops.process_clob(row[0]).encode())
            )
            value += delta
            pickled = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET value = %s WHERE cache_key = %s",  # noqa: S608
                [pickled, key],
            )
        return value

    @staticmethod
    def _expired(connection: Any, expires: Any) -> bool:
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression)
        converters += expression.get_db_converters(connection)
        for converter in converters:
            expires = converter(expires, expression, connection)
        return expires < timezone.now()
