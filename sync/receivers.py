from typing import Any

from django.core.cache import cache
from django.db import transaction
from rest_framework_api_key.models import APIKey

from sync.auth import api_key_cache_key


def api_key_forget(sender: type[APIKey], instance: APIKey, **kwargs: Any) -> None:
    """A saved (revoked, re-dated) or deleted key is re-verified on its next use."""
    key = api_key_cache_key(instance.prefix)
    cache.delete(key)  # now, and again after commit in case a request re-cached the old row
    transaction.on_commit(lambda: cache.delete(key))
