"""The public code lookup's cache: one module for its whole protocol.

An entry's key carries a version token (`codes:public:<CODE>:<version>`), and the current
version of each code lives under its own key. Invalidating a code replaces its version
after the changing transaction commits, so entries written under the old version are
never read again. That also settles the race a plain delete loses: a reader that read the
database before a change and writes its entry after the change's invalidation writes
under the old version, which nobody reads any more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction


def public_code_version_key(value: str) -> str:
    return f"codes:public-version:{value}"


def _version_lifetime() -> int:
    # Longer than any entry, so an entry never outlives the version it was written under.
    return settings.CODES_CACHE_SECONDS * 2


def public_code_entry_key(value: str) -> str:
    """The key the current entry of the (normalized) code `value` lives under."""
    version_key = public_code_version_key(value)
    version = cache.get(version_key)
    if version is None:
        # `add`, not `set`: of two first readers, both end up with the one version.
        cache.add(version_key, uuid.uuid4().hex, timeout=_version_lifetime())
        version = cache.get(version_key)
    return f"codes:public:{value}:{version}"


def public_code_read_through(value: str, *, load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The cached entry of `value`, or `load()`'s, cached for CODES_CACHE_SECONDS. An
    empty dict is an entry too: "no such usable code" is cached like any answer."""
    key = public_code_entry_key(value)
    entry: dict[str, Any] | None = cache.get(key)
    if entry is None:
        entry = load()
        cache.set(key, entry, timeout=settings.CODES_CACHE_SECONDS)
    return entry


def public_codes_invalidate_on_commit(values: Iterable[str]) -> None:
    """Retire the entries of the (normalized) codes `values` once the transaction commits
    (nothing happens for a write that rolls back)."""
    keys = [public_code_version_key(value) for value in values]
    if keys:
        transaction.on_commit(
            lambda: cache.set_many(
                {key: uuid.uuid4().hex for key in keys}, timeout=_version_lifetime()
            )
        )
