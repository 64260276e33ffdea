"""Helpers of the sync tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings

DOC = Path(settings.BASE_DIR) / "docs" / "tree-service.md"


def reference_client() -> Any:
    """The `sync_tree` function of the reference client in docs/tree-service.md, as written."""
    source = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert source is not None, "the reference client is gone from the docs"
    namespace: dict[str, Any] = {}
    exec(compile(source[1], str(DOC), "exec"), namespace)
    return namespace["sync_tree"]
