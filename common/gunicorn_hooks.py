"""gunicorn server hooks for prometheus_client's multiprocess mode; the gunicorn
configuration file binds them (`on_starting = gunicorn_hooks.on_starting`, and so on).

Workers write their samples to files in PROMETHEUS_MULTIPROC_DIR, which must be set
before a worker imports prometheus_client and must not hold the files of an earlier run
(their counts would be added in). This module runs in gunicorn's master, which imports
no Django: it reads the environment itself, and imports prometheus_client only after the
folder is set, since workers forked from a master that imported it without the variable
would count in memory, each on its own.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

ENV = "PROMETHEUS_MULTIPROC_DIR"


def on_starting(server: Any) -> None:
    """Empty the metrics folder (or make one when the variable is unset) before any
    worker starts."""
    path = os.environ.get(ENV)
    if not path:
        path = os.environ[ENV] = tempfile.mkdtemp(prefix="referral-metrics-")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # prometheus_client's files only
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Forget a worker that ended: its live gauges leave /metrics (counters stay summed)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
