"""Helpers of the sync tests."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings

from users.models import User

DOC = Path(settings.BASE_DIR) / "docs" / "tree-service.md"


def reference_client() -> Any:
    """The `sync_tree` function of the reference client in docs/tree-service.md, as written."""
    source = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert source is not None, "the reference client is gone from the docs"
    namespace: dict[str, Any] = {}
    exec(compile(source[1], str(DOC), "exec"), namespace)
    return namespace["sync_tree"]


def server_tree() -> dict[str, str | None]:
    """{uuid: referred_by_uuid} of every user who exists (erased ones do not)."""
    return {
        str(uuid): str(parent) if parent else None
        for uuid, parent in User.objects.filter(erased_at__isnull=True).values_list(
            "uuid", "referred_by__uuid"
        )
    }


def sync_while(
    writer: Callable[[], None], sync_tree: Any, url: str, raw_key: str
) -> dict[str, str | None]:
    """The tree the reference client builds by polling from before `writer` starts (in a
    thread) until after it has finished, with one last poll once it is done."""
    tree: dict[str, str | None] = {}
    since = sync_tree(url, raw_key, tree)
    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        since = sync_tree(url, raw_key, tree, since)
    thread.join()
    sync_tree(url, raw_key, tree, since)
    return tree
